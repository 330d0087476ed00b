"""`pixel reconstruct` end to end on a tiny pretraining checkpoint written by the test."""

from __future__ import annotations

import math
import re

import pytest
import torch
from PIL import Image

from pixel.cli.main import main
from pixel.model.config import PIXELConfig
from pixel.model.pixel import PIXELForPreTraining
from pixel.render.base import DEFAULT_FONT_FILE


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny-pixel")
    PIXELForPreTraining(PIXELConfig.variant("tiny")).save_pretrained(folder)
    return folder


def _loss(stdout: str) -> float:
    match = re.search(r"reconstruction loss: (\S+)", stdout)
    assert match, stdout
    return float(match.group(1))


def test_reconstruct_writes_a_png_and_prints_a_finite_loss(model_dir, tmp_path, capsys):
    output = tmp_path / "recon.png"
    code = main(["reconstruct", "Hello world, pixels!", "--model", str(model_dir), "-o", str(output),
                 "--max-seq-length", "64", "--seed", "1"])
    stdout = capsys.readouterr().out
    assert code == 0
    assert math.isfinite(_loss(stdout))
    with Image.open(output) as image:
        assert image.format == "PNG" and image.mode == "RGB" and image.width > 100
    assert [p.name for p in tmp_path.iterdir()] == ["recon.png"]  # no temporary file left behind


def test_reconstruct_runs_in_bf16_where_it_is_native_unless_told_fp32(model_dir, tmp_path, capsys, monkeypatch):
    import pixel.viz
    from pixel import runtime

    seen = []
    real_reconstruct = pixel.viz.reconstruct

    def spy(*args, **kwargs):
        seen.append(torch.get_autocast_dtype("cpu") if torch.is_autocast_enabled("cpu") else torch.float32)
        return real_reconstruct(*args, **kwargs)

    monkeypatch.setattr(pixel.viz, "reconstruct", spy)
    for native_bf16, flags in ((True, []), (True, ["--precision", "fp32"]), (True, ["--precision", "bf16"]), (False, [])):
        monkeypatch.setattr(runtime, "native_bf16", lambda device, native=native_bf16: native)
        assert main(["reconstruct", "Hello world, pixels!", "--model", str(model_dir), "-o", str(tmp_path / "r.png"),
                     "--max-seq-length", "64", *flags]) == 0
        assert math.isfinite(_loss(capsys.readouterr().out))
    # auto: bf16 where the CPU computes it natively, else fp32
    assert seen == [torch.bfloat16, torch.float32, torch.bfloat16, torch.float32]


def test_reconstruct_uses_the_renderer_saved_with_the_model(model_dir, tmp_path, capsys):
    from pixel.render.pangocairo import PangoCairoTextRenderer

    folder = tmp_path / "with-renderer"
    PIXELForPreTraining.from_pretrained(model_dir).save_pretrained(folder)
    PangoCairoTextRenderer(font_file=str(DEFAULT_FONT_FILE), max_seq_length=64).save_pretrained(folder)
    output = tmp_path / "recon.png"
    code = main(["reconstruct", "Hello", "--model", str(folder), "-o", str(output), "--masking", "random",
                 "--mask-ratio", "0.5"])
    stdout = capsys.readouterr().out
    assert code == 0
    assert math.isfinite(_loss(stdout))
    assert f"renderer: {folder}" in stdout
    assert output.is_file()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--model", "{tmp}/no-such-model"], "model folder not found"),
        (["--model", "{model}", "--mask-ratio", "1.5"], "--mask-ratio"),
        (["--model", "{model}", "-o", "{tmp}/recon.unknownext"], "must end in .png"),
        (["--model", "{model}", "-o", "{tmp}/missing-dir/recon.png"], "output folder does not exist"),
        (["--model", "{model}", "--renderer", "{tmp}/no-renderer"], "renderer folder not found"),
    ],
)
def test_reconstruct_bad_arguments_are_clean_errors(model_dir, tmp_path, capsys, extra, message):
    arguments = [a.format(tmp=tmp_path, model=model_dir) for a in extra]
    code = main(["reconstruct", "Hello", *arguments])
    captured = capsys.readouterr()
    assert code == 1
    assert message in captured.err and "Traceback" not in captured.err
    assert not list(tmp_path.glob("*.png"))


@pytest.mark.parametrize("where", ["import", "first render"])
def test_missing_renderer_libraries_explain_what_to_install(model_dir, tmp_path, capsys, monkeypatch, where):
    import pixel.render.choose as choose
    import pixel.render.folder as folder
    import pixel.render.pangocairo as pangocairo

    def unavailable(*args, **kwargs):
        if where == "import":
            raise ImportError("No module named 'pangocairocffi'")
        raise OSError("cannot load library 'libpangocairo-1.0.so.0'")

    if where == "import":
        monkeypatch.setattr(folder, "renderer_class", unavailable)
        monkeypatch.setattr(choose, "renderer_class", unavailable)
    else:
        monkeypatch.setattr(pangocairo._Native, "__init__", unavailable)
    code = main(["reconstruct", "Hello", "--model", str(model_dir), "-o", str(tmp_path / "r.png")])
    err = capsys.readouterr().err
    assert code == 1
    assert "apt-get install" in err and "pangocairocffi" in err and "Traceback" not in err


def test_without_model_the_shipped_model_is_used_or_the_error_says_so(tmp_path, capsys, monkeypatch):
    import pixel.cli.reconstruct as reconstruct

    if reconstruct.shipped_model() is not None:
        code = main(["reconstruct", "Hello world, pixels!", "-o", str(tmp_path / "recon.png")])
        assert code == 0
        out = capsys.readouterr().out
        assert f"renderer: {reconstruct.SHIPPED_MODEL}" in out
        # the shipped model named by a relative path is the same model: single masked patches, as trained
        monkeypatch.chdir(reconstruct.SHIPPED_MODEL.parent)
        assert main(["reconstruct", "Hello world, pixels!", "--model", reconstruct.SHIPPED_MODEL.name,
                     "-o", str(tmp_path / "relative.png")]) == 0
        loss_line = next(line for line in out.splitlines() if line.startswith("reconstruction loss"))
        assert loss_line in capsys.readouterr().out
    monkeypatch.setattr(reconstruct, "SHIPPED_MODEL", tmp_path / "no-model")
    code = main(["reconstruct", "Hello", "-o", str(tmp_path / "other.png")])
    err = capsys.readouterr().err
    assert code == 1 and "--model is required" in err and "no-model" in err
    assert not (tmp_path / "other.png").exists()


def test_reconstruct_takes_the_rendering_of_the_model_or_of_the_option(model_dir, tmp_path, capsys):
    from pixel.render.pangocairo import PangoCairoTextRenderer

    folder = tmp_path / "bigram-model"
    PIXELForPreTraining.from_pretrained(model_dir).save_pretrained(folder)
    PangoCairoTextRenderer(max_seq_length=64, rendering="bigrams").save_pretrained(folder)
    output = str(tmp_path / "recon.png")
    assert main(["reconstruct", "My cat loves oatmeal.", "--model", str(folder), "-o", output]) == 0
    assert f"renderer: {folder} (rendering bigrams)" in capsys.readouterr().out
    assert main(["reconstruct", "Hello", "--model", str(folder), "-o", output, "--rendering", "continuous"]) == 1
    assert "draws rendering='bigrams', but rendering='continuous' was asked for" in capsys.readouterr().err
    assert main(["reconstruct", "Hello", "--model", str(folder), "-o", output, "--renderer", str(folder),
                 "--rendering", "words"]) == 0
    assert f"renderer: {folder} (rendering words)" in capsys.readouterr().out
    assert main(["reconstruct", "Hello", "--model", str(model_dir), "-o", output, "--rendering", "mono",
                 "--max-seq-length", "64"]) == 0
    assert "(rendering mono)" in capsys.readouterr().out
