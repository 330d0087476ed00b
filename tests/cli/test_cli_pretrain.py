"""`pixel pretrain` end to end with the real model and renderer at smoke size."""

import json
from pathlib import Path

import pytest
from safetensors.torch import load_file

from pixel.cli.main import main

pytest.importorskip("pangocairocffi")
ROOT = Path(__file__).resolve().parents[2]
SMOKE = ["--config", str(ROOT / "configs" / "pretrain" / "pixel-base.yaml"), "--smoke"]
TEXT = ("The quick brown fox jumps over the lazy dog.\nPIXEL renders text as images and reconstructs masked "
        "patches.\nEin kleiner Test auf Deutsch, und noch ein Satz.\n")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def test_smoke_run_resume_and_continued_pretraining(tmp_path, corpus, capsys):
    out = tmp_path / "run"
    common = ["pretrain", *SMOKE, "--train_files", str(corpus), "--output_dir", str(out)]
    assert main([*common, "--validation_files", str(corpus)]) == 0
    folder = out / "checkpoint-4"
    for name in ("config.json", "model.safetensors", "text_renderer_config.json", "NotoSans-Regular.ttf",
                 "reconstruction.png", "loss_curve.png", "trainer_state.json"):
        assert (folder / name).is_file(), name
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics if "loss" in m] == [1, 2, 3, 4]
    assert any("val_loss" in m for m in metrics)
    for key in ("lr", "grad_norm", "strips_per_s", "patches_per_s", "data_wait_share"):
        assert key in metrics[0]

    from pixel.model.pixel import PIXELForPreTraining
    from pixel.render.folder import load_renderer

    model = PIXELForPreTraining.from_pretrained(folder)  # a checkpoint is a complete model folder
    assert model.config.hidden_size == 32 and load_renderer(folder).max_seq_length == 32

    assert main([*common, "--max_steps", "5", "--resume"]) == 0
    assert (out / "checkpoint-5").is_file() is False and (out / "checkpoint-5").is_dir()

    # continued pretraining keeps every weight: one step with learning rate 0 changes nothing
    continued = tmp_path / "continued"
    assert main(["pretrain", *SMOKE, "--train_files", str(corpus), "--output_dir", str(continued),
                 "--init_from", str(out / "checkpoint-5"), "--max_steps", "1", "--learning_rate", "0",
                 "--min_lr", "0"]) == 0
    before = load_file(str(out / "checkpoint-5" / "model.safetensors"))
    after = load_file(str(continued / "checkpoint-1" / "model.safetensors"))
    assert before.keys() == after.keys()
    assert all(before[k].equal(after[k]) for k in before)


def test_unknown_keys_and_bad_values_are_clear_errors(tmp_path, corpus, capsys):
    assert main(["pretrain", *SMOKE, "--max_stepz", "3"]) == 1
    assert "unknown config key 'max_stepz'" in capsys.readouterr().err
    assert main(["pretrain", *SMOKE, "--train_files", str(corpus), "--model.hiden_size", "3"]) == 1
    err = capsys.readouterr().err
    assert "model.hiden_size" in err and "model.hidden_size" in err
    bad = tmp_path / "bad.yaml"
    bad.write_text("learning_rat: 1e-3\n")
    assert main(["pretrain", "--config", str(bad)]) == 1
    assert "did you mean learning_rate" in capsys.readouterr().err
    assert main(["pretrain", *SMOKE, "--max_steps", "many"]) == 1
    assert "expected an integer" in capsys.readouterr().err
    assert main(["pretrain", *SMOKE]) == 1
    assert "no training text" in capsys.readouterr().err
    assert main(["pretrain", *SMOKE, "--train_files", str(corpus), "--output_dir",
                 str(tmp_path / "none"), "--resume"]) == 1
    assert "no checkpoint" in capsys.readouterr().err


def test_rendering_option_of_fresh_and_continued_runs(tmp_path, corpus, capsys):
    """--rendering builds a fresh renderer that way (rendered in 2 DataLoader workers) and is saved with the
    checkpoints; continuing from them keeps it, and a contradicting --rendering is refused unless the renderer
    folder is named explicitly."""
    from pixel.render.folder import load_renderer

    out = tmp_path / "bigrams"
    common = ["pretrain", *SMOKE, "--train_files", str(corpus), "--max_steps", "2", "--save_every", "2"]
    assert main([*common, "--output_dir", str(out), "--rendering", "bigrams", "--num_workers", "2"]) == 0
    assert "renderer a fresh PangoCairoTextRenderer (rendering='bigrams')" in capsys.readouterr().out
    checkpoint = out / "checkpoint-2"
    assert json.loads((checkpoint / "text_renderer_config.json").read_text())["rendering"] == "bigrams"
    assert load_renderer(checkpoint).rendering == "bigrams"

    continued = ["--init_from", str(checkpoint), "--max_steps", "1"]
    assert main([*common, *continued, "--output_dir", str(tmp_path / "again")]) == 0
    assert load_renderer(tmp_path / "again" / "checkpoint-1").rendering == "bigrams"
    assert main([*common, *continued, "--output_dir", str(tmp_path / "no"), "--rendering", "continuous"]) == 1
    err = capsys.readouterr().err
    assert "draws rendering='bigrams', but rendering='continuous' was asked for" in err and "Traceback" not in err
    assert not (tmp_path / "no" / "checkpoint-1").exists()
    assert main([*common, *continued, "--output_dir", str(tmp_path / "words"), "--renderer", str(checkpoint),
                 "--rendering", "words"]) == 0
    assert load_renderer(tmp_path / "words" / "checkpoint-1").rendering == "words"
    assert main([*common, "--output_dir", str(tmp_path / "bad"), "--rendering", "fancy"]) == 1
    assert "unknown rendering 'fancy'" in capsys.readouterr().err
