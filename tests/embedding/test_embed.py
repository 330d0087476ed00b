"""Sentence embeddings (`pixel.embed`, `pixel embed`): order, shapes, pooling, padding, precision, loading from
every kind of folder, bad input (issue 14, items 3 and 6)."""

from __future__ import annotations

import io
import json
import logging
import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pangocairocffi")

import torch  # noqa: E402

from pixel.cli.main import main  # noqa: E402
from pixel.embedding.encode import embed  # noqa: E402
from pixel.runtime import inference_precision, native_bf16  # noqa: E402

TEXTS = ["The cat sleeps.", "Die Katze schläft auf dem warmen Ofen.", "a", "Кошка спит.", "",
         "pixels are words too, and words are pictures"]


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory) -> Path:
    """A tiny PIXELForPreTraining folder (strips of 64 patches) with its PangoCairo renderer."""
    from pixel.model.config import PIXELConfig
    from pixel.model.pixel import PIXELForPreTraining
    from pixel.render.pangocairo import PangoCairoTextRenderer

    folder = tmp_path_factory.mktemp("pretrained")
    torch.manual_seed(0)
    PIXELForPreTraining(PIXELConfig.variant("tiny", image_size=[16, 16 * 64])).save_pretrained(folder)
    PangoCairoTextRenderer(max_seq_length=64).save_pretrained(folder)
    return folder


def encoder_outputs(folder: Path, text: str) -> tuple[torch.Tensor, int]:
    """(last_hidden_state [1 + 64, D] of ``text`` by the plain PIXELModel of the folder, its text patches)."""
    from pixel.model.pixel import PIXELModel
    from pixel.render.batch import render_batch, to_model_inputs
    from pixel.render.folder import load_renderer

    model = PIXELModel.from_pretrained(folder)
    batch = render_batch(load_renderer(folder), [text])
    with torch.no_grad():
        hidden = model(to_model_inputs(batch), torch.from_numpy(batch.attention_mask)).last_hidden_state[0]
    return hidden, int(batch.num_text_patches[0])


def test_rows_keep_the_input_order_whatever_the_batching(pretrained):
    together = embed(pretrained, TEXTS, batch_size=4, num_workers=1, precision="fp32", device="cpu")
    assert together.shape == (len(TEXTS), 32) and together.dtype == np.float32
    for index, text in enumerate(TEXTS):  # alone: another batch, other padding neighbours
        alone = embed(pretrained, [text], precision="fp32", device="cpu")
        np.testing.assert_allclose(together[index], alone[0], atol=1e-5)
    assert not np.allclose(together[0], together[1], atol=1e-3)


@pytest.mark.parametrize("pooling", ["mean", "max", "cls"])
def test_pooling_reads_the_text_patches_and_the_end_patch(pretrained, pooling):
    text = TEXTS[1]
    hidden, patches = encoder_outputs(pretrained, text)
    kept = hidden[1 : patches + 2]  # the text patches and the black end patch, after CLS
    expected = {"mean": kept.mean(0), "max": kept.max(0).values, "cls": hidden[0]}[pooling]
    got = embed(pretrained, [text], pooling=pooling, precision="fp32", device="cpu")[0]
    np.testing.assert_allclose(got, expected.numpy(), atol=1e-5)


@pytest.mark.parametrize("pooling", ["mean", "max", "cls"])
def test_padding_changes_nothing(pretrained, pooling):
    # The same texts in strips of 16 and of 64 patches: 48 more padding patches each.
    texts = [text for text in TEXTS if encoder_outputs(pretrained, text)[1] < 15]  # those that fit 16 patches
    assert len(texts) == 4
    short = embed(pretrained, texts, pooling=pooling, precision="fp32", device="cpu", max_seq_length=16)
    long = embed(pretrained, texts, pooling=pooling, precision="fp32", device="cpu")
    np.testing.assert_allclose(short, long, atol=1e-5)


def test_bf16_is_close_to_fp32(pretrained):
    fp32 = embed(pretrained, TEXTS, precision="fp32", device="cpu")
    bf16 = embed(pretrained, TEXTS, precision="bf16", device="cpu")
    assert bf16.dtype == np.float32 and not np.array_equal(bf16, fp32)  # bf16 really ran
    cosine = (fp32 * bf16).sum(1) / np.linalg.norm(fp32, axis=1) / np.linalg.norm(bf16, axis=1)
    assert cosine.min() > 0.999
    assert np.abs(bf16 - fp32).max() < 0.05 * np.abs(fp32).max()


def test_auto_precision_is_bf16_exactly_where_it_is_native():
    # the one decision of pixel.runtime, as for predict / evaluate / reconstruct
    cpu = torch.device("cpu")
    assert inference_precision(cpu, "fp32") == "fp32" and inference_precision(cpu, "bf16") == "bf16"
    assert (inference_precision(cpu, "auto") == "bf16") == native_bf16(cpu)
    with pytest.raises(ValueError, match="precision must be one of auto, fp32, bf16"):
        embed(object(), ["a text"], precision="fp16")


def test_any_folder_gives_its_encoder(pretrained, tmp_path, caplog):
    """A fine-tuned model's folder and a PIXELModel folder embed as the pretraining folder they came from
    (the head is untrained, the encoder unchanged), without warnings about the weights they drop."""
    from pixel.model.heads import PIXELForSequenceClassification
    from pixel.model.pixel import PIXELModel
    from pixel.render.folder import load_renderer

    finetuned, encoder_only = tmp_path / "finetuned", tmp_path / "encoder"
    head = PIXELForSequenceClassification.from_pretrained(pretrained, pooling_mode="cls",
                                                          id2label={0: "a", 1: "b", 2: "c"})
    head.save_pretrained(finetuned)
    PIXELModel.from_pretrained(pretrained, add_pooling_layer=True).save_pretrained(encoder_only)
    for folder in (finetuned, encoder_only):
        load_renderer(pretrained).save_pretrained(folder)
    expected = embed(pretrained, TEXTS, precision="fp32", device="cpu")
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        for folder in (finetuned, encoder_only):
            np.testing.assert_allclose(embed(folder, TEXTS, precision="fp32", device="cpu"), expected, atol=1e-6)
        np.testing.assert_allclose(embed(head, TEXTS, precision="fp32", device="cpu",
                                         renderer=load_renderer(pretrained)), expected, atol=1e-6)
    assert not caplog.records


def test_a_folder_without_a_complete_encoder_is_an_error(pretrained, tmp_path):
    from safetensors.torch import load_file, save_file

    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("config.json", "text_renderer_config.json", "NotoSans-Regular.ttf"):
        (broken / name).write_bytes((pretrained / name).read_bytes())
    state = load_file(pretrained / "model.safetensors")
    save_file({k: v for k, v in state.items() if not k.startswith("vit.encoder.layer.1.")},
              broken / "model.safetensors")
    message = r"broken/model.safetensors holds no complete EmbeddingEncoder: it lacks encoder\.\* \(16 tensors\)"
    with pytest.raises(ValueError, match=message):
        embed(broken, ["text"], device="cpu")


def test_bad_arguments(pretrained):
    import pixel

    assert pixel.embed is embed  # the public name
    with pytest.raises(TypeError, match="wrap it in a list"):
        embed(pretrained, "one text")
    with pytest.raises(TypeError, match=r"texts\[1\] is a int"):
        embed(pretrained, ["a", 3])
    with pytest.raises(ValueError, match="no texts to embed"):
        embed(pretrained, [])
    with pytest.raises(ValueError, match="choose one of mean, max, cls"):
        embed(pretrained, ["a"], pooling="pma4", device="cpu")
    with pytest.raises(ValueError, match="max_seq_length 65 does not fit .* 2 to 64 patches"):
        embed(pretrained, ["a"], max_seq_length=65, device="cpu")


# ------------------------------------------------------------------------------------------------ command


def test_command_writes_npy_and_safetensors_in_input_order(pretrained, tmp_path, capsys, monkeypatch):
    from safetensors.numpy import load_file, safe_open

    expected = embed(pretrained, TEXTS, precision="fp32", device="cpu")
    lines = tmp_path / "texts.txt"
    lines.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")  # TEXTS[4] is a blank line: a row of its own
    common = ["embed", "--model", str(pretrained), "--precision", "fp32", "--device", "cpu", "--quiet"]
    assert main([*common, "--file", str(lines), "--output", str(tmp_path / "a.npy")]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "a.npy"), expected, atol=1e-6)
    jsonl = tmp_path / "texts.jsonl"
    jsonl.write_text("".join(json.dumps({"sentence": text, "id": 1}) + "\n" for text in TEXTS[:2]))
    assert main([*common, "--jsonl", str(jsonl), "--field", "sentence", "--output",
                 str(tmp_path / "out" / "b.safetensors")]) == 0
    np.testing.assert_allclose(load_file(tmp_path / "out" / "b.safetensors")["embeddings"], expected[:2], atol=1e-6)
    with safe_open(tmp_path / "out" / "b.safetensors", "np") as stored:
        assert stored.metadata() == {"model": str(pretrained), "pooling": "mean"}
    assert main([*common, *TEXTS[:3], "--output", str(tmp_path / "c.npy")]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "c.npy"), expected[:3], atol=1e-6)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO("\n".join(TEXTS[:2]).encode())))
    assert main([*common, "--output", str(tmp_path / "d.npy")]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "d.npy"), expected[:2], atol=1e-6)
    assert "wrote" in capsys.readouterr().out
    assert not list(tmp_path.glob(".*.tmp")) and not list((tmp_path / "out").glob(".*.tmp"))


@pytest.mark.parametrize("content", [b"", b"\n  \n"])
def test_an_empty_input_file_is_an_error_naming_it(pretrained, tmp_path, capsys, content):
    empty = tmp_path / "empty-input.txt"
    empty.write_bytes(content)
    output = tmp_path / "out.npy"
    for option in ("--file", "--jsonl"):
        assert main(["embed", "--model", str(pretrained), option, str(empty), "--output", str(output)]) == 1
        assert re.search(r"pixel embed: error: nothing to embed: .*empty-input\.txt holds no", capsys.readouterr().err)
    assert not output.exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["hello", "--output", "out.txt"], r"--output out.txt: name a .npy or .safetensors file"),
        (["hello"], r"say where the embeddings go"),
        (["hello", "--file", "x.txt", "--output", "o.npy"], r"give the texts one way, not TEXT and --file"),
        (["--file", "missing.txt", "--output", "o.npy"], r"missing.txt: no such file"),
        (["hello", "--scatter", "o.png"], r"--scatter colours points by a label: give --jsonl"),
        (["--retrieval", "a.txt", "b.txt", "--output", "o.npy"], r"--retrieval prints scores only"),
        (["--retrieval", "PARALLEL_EN", "SHORT"], r"parallel files: .*parallel.en.txt has 6 lines, .*short.txt has 1"),
    ],
)
def test_command_errors(pretrained, tmp_path, capsys, monkeypatch, extra, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "short.txt").write_text("one line\n")
    parallel = Path(__file__).resolve().parents[1] / "data" / "embed" / "parallel.en.txt"
    extra = [str(parallel) if arg == "PARALLEL_EN" else "short.txt" if arg == "SHORT" else arg for arg in extra]
    assert main(["embed", "--model", str(pretrained), *extra]) == 1
    assert re.search(message, capsys.readouterr().err)
