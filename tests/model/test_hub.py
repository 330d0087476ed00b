"""Loading and saving: safetensors round trip, the original's pytorch_model.bin, prefixes, reports, errors."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import ClassVar

import pytest
import torch
from test_pixel_model import tiny_config  # tests/model is on sys.path (rootdir-relative test modules)
from torch import nn

from pixel.model.config import PIXELConfig
from pixel.model.pixel import PIXELForPreTraining, PIXELModel, PIXELPreTrainedModel

TINY = Path(__file__).parents[1] / "data" / "golden" / "model" / "tiny-pixel"


class ToyHead(PIXELPreTrainedModel):
    """A head shaped like the original QA head: encoder + used layer + unused `classifier` in checkpoints."""

    _keys_to_ignore_on_load: ClassVar[tuple[str, ...]] = (r"^classifier\.",)

    def __init__(self, config: PIXELConfig, width: int = 2) -> None:
        super().__init__(config)
        self.vit = PIXELModel(config)
        self.qa_outputs = nn.Linear(config.hidden_size, width)
        self.post_init()


def assert_same_state(a: nn.Module, b: nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key


@pytest.mark.parametrize(
    "build", [lambda c: PIXELForPreTraining(c), lambda c: PIXELModel(c, add_pooling_layer=True)]
)
def test_save_then_load_is_bit_exact(tmp_path: Path, build) -> None:
    model = build(tiny_config())
    model.config.pooling_mode = "mean"
    model.save_pretrained(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "model.safetensors"]
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["architectures"] == [type(model).__name__] and config["pooling_mode"] == "mean"
    loaded = type(model).from_pretrained(tmp_path)
    assert not loaded.training
    assert_same_state(model, loaded)
    assert loaded.config == model.config
    # saving again over an existing folder keeps other files (e.g. the renderer folder)
    (tmp_path / "renderer").mkdir()
    loaded.save_pretrained(tmp_path)
    assert (tmp_path / "renderer").is_dir()


def test_original_pytorch_model_bin_loads_completely(caplog: pytest.LogCaptureFixture) -> None:
    original = torch.load(TINY / "pytorch_model.bin", map_location="cpu", weights_only=True)
    with caplog.at_level(logging.WARNING):
        model = PIXELForPreTraining.from_pretrained(TINY)
    assert caplog.text == ""  # nothing missing, nothing unused
    state = model.state_dict()
    assert set(state) == set(original)
    for key, value in original.items():
        assert torch.equal(state[key], value), key
    assert model.config.hidden_size == 32 and model.config.num_patches == 529


def test_pretraining_checkpoint_into_encoder_and_head(caplog: pytest.LogCaptureFixture) -> None:
    original = torch.load(TINY / "pytorch_model.bin", map_location="cpu", weights_only=True)
    with caplog.at_level(logging.WARNING):
        encoder = PIXELModel.from_pretrained(TINY)
    assert "Unused checkpoint weights (dropped): decoder.* (40 tensors)" in caplog.text
    assert "Newly initialised" not in caplog.text
    assert torch.equal(encoder.layernorm.weight, original["vit.layernorm.weight"])
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        head = ToyHead.from_pretrained(TINY, width=3, hidden_dropout_prob=0.0)
    assert len(caplog.records) == 1
    assert (
        "Newly initialised (not in the checkpoint; train them): qa_outputs.weight, qa_outputs.bias"
        in caplog.text
    )
    assert "decoder.* (40 tensors)" in caplog.text
    assert head.qa_outputs.out_features == 3 and head.config.hidden_dropout_prob == 0.0
    assert torch.equal(head.vit.embeddings.cls_token, original["vit.embeddings.cls_token"])


def test_encoder_only_checkpoint_into_pretraining_and_head(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    encoder = PIXELModel(tiny_config())
    encoder.save_pretrained(tmp_path)
    with caplog.at_level(logging.WARNING):
        pretraining = PIXELForPreTraining.from_pretrained(tmp_path)
    assert "Newly initialised" in caplog.text and "decoder.* (" in caplog.text
    assert torch.equal(
        pretraining.vit.encoder.layer[1].output.dense.weight, encoder.encoder.layer[1].output.dense.weight
    )
    head = ToyHead.from_pretrained(tmp_path)
    assert_same_state(head.vit, encoder)


def test_unused_classifier_of_original_heads_is_ignored_silently(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    head = ToyHead(tiny_config())
    state = head.state_dict()
    state["classifier.weight"] = torch.zeros(2, 32)
    state["classifier.bias"] = torch.zeros(2)
    torch.save(state, tmp_path / "pytorch_model.bin")
    tiny_config().save_pretrained(tmp_path)
    with caplog.at_level(logging.WARNING):
        loaded = ToyHead.from_pretrained(tmp_path)
    assert caplog.text == ""
    assert_same_state(head, loaded)


def test_finetuned_checkpoint_with_vit_config_and_truncated_positions(tmp_path: Path) -> None:
    # As the original's fine-tuned checkpoints: model_type "vit", image_size [16, 16L], positions [1, L+1, D].
    original = torch.load(TINY / "pytorch_model.bin", map_location="cpu", weights_only=True)
    state = {k: v for k, v in original.items() if k.startswith("vit.")}
    state["vit.embeddings.position_embeddings"] = state["vit.embeddings.position_embeddings"][:, :257].clone()
    torch.save(state, tmp_path / "pytorch_model.bin")
    config = json.loads((TINY / "config.json").read_text())
    config.update(model_type="vit", image_size=[16, 4096], architectures=["PIXELForSequenceClassification"])
    (tmp_path / "config.json").write_text(json.dumps(config))
    encoder = PIXELModel.from_pretrained(tmp_path)
    assert encoder.num_patches == 256
    out = encoder(torch.rand(1, 3, 16, 4096))
    assert out.last_hidden_state.shape == (1, 257, 32)


def test_shape_mismatch_names_key_and_shapes(tmp_path: Path) -> None:
    # A hidden_size that does not fit the weights printed a ~6 KB line of every tensor and suggested
    # max_seq_length: now a few examples and the config field that explains them.
    PIXELModel(tiny_config()).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match=r"\d+ tensors do not fit, e.g. .*checkpoint \[1, 1, 32\] vs model \[1, 1, "
                                         r"48\].*the config has hidden_size=48 but the weights have 32") as caught:
        PIXELModel.from_pretrained(tmp_path, hidden_size=48, num_attention_heads=4)
    assert len(str(caught.value)) < 800 and "max_seq_length" not in str(caught.value)
    config = json.loads((tmp_path / "config.json").read_text())
    config["image_size"] = [16, 512]
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(
        ValueError,
        match=r"position_embeddings: checkpoint \[1, 17, 32\] vs model \[1, 33, 32\].*max_seq_length=16",
    ):
        PIXELModel.from_pretrained(tmp_path)


def test_max_seq_length_truncates_like_the_original() -> None:
    original = torch.load(TINY / "pytorch_model.bin", map_location="cpu", weights_only=True)
    model = PIXELForPreTraining.from_pretrained(TINY, max_seq_length=256)
    assert model.config.image_size == [16, 4096]
    assert torch.equal(
        model.vit.embeddings.position_embeddings, original["vit.embeddings.position_embeddings"][:, :257]
    )
    assert torch.equal(model.decoder.decoder_pos_embed, original["decoder.decoder_pos_embed"][:, :257])
    assert not model.vit.embeddings.position_embeddings.requires_grad
    out = model(torch.rand(2, 3, 16, 4096), torch.ones(2, 256))
    assert out.logits.shape == (2, 256, 768) and torch.isfinite(out.loss)


def test_missing_files_and_unsafe_pickles(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        PIXELModel.from_pretrained(tmp_path / "missing" / "model")
    tiny_config().save_pretrained(tmp_path)
    with pytest.raises(FileNotFoundError, match="neither model.safetensors nor pytorch_model.bin"):
        PIXELModel.from_pretrained(tmp_path)
    # A pickle that would run code on unrestricted loading is refused, not executed.
    torch.save({"weight": torch.zeros(1), "payload": ToyPayload()}, tmp_path / "pytorch_model.bin")
    with pytest.raises(ValueError, match="not a loadable tensor-only checkpoint: it holds pickled code") as caught:
        PIXELModel.from_pretrained(tmp_path)
    assert not ToyPayload.unpickled
    # torch's own message advises weights_only=False, the unsafe path: not repeated.
    assert "weights_only" not in str(caught.value) and "_mark_unpickled" in str(caught.value)


def test_truncated_weights_are_one_error_naming_the_file(tmp_path: Path, capsys) -> None:
    # A raw SafetensorError from the API and a traceback from `pixel reconstruct` before.
    from pixel.cli.main import main

    PIXELForPreTraining(tiny_config()).save_pretrained(tmp_path)
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(ValueError, match=rf"the weights file {weights} is corrupt or truncated .*save the model again"):
        PIXELForPreTraining.from_pretrained(tmp_path)
    assert main(["reconstruct", "text", "--model", str(tmp_path), "-o", str(tmp_path / "r.png")]) == 1
    error = capsys.readouterr().err
    assert f"the weights file {weights} is corrupt or truncated" in error and "Traceback" not in error


class ToyPayload:
    unpickled = False

    def __reduce__(self):
        return (_mark_unpickled, ())


def _mark_unpickled() -> None:
    ToyPayload.unpickled = True


def test_hub_ids_go_through_hf_hub_download(monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub
    from huggingface_hub.utils import EntryNotFoundError

    calls: list[tuple[str, str, str | None]] = []

    def fake_download(repo_id: str, filename: str, revision: str | None = None) -> str:
        calls.append((repo_id, filename, revision))
        if filename == "model.safetensors":  # the original repos only have pytorch_model.bin
            raise EntryNotFoundError("no such file")
        return str(TINY / filename)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    model = PIXELModel.from_pretrained("Team-PIXEL/pixel-tiny", revision="seed2")
    assert model.config.hidden_size == 32
    assert calls == [
        ("Team-PIXEL/pixel-tiny", "config.json", "seed2"),
        ("Team-PIXEL/pixel-tiny", "model.safetensors", "seed2"),
        ("Team-PIXEL/pixel-tiny", "pytorch_model.bin", "seed2"),
    ]


class TiedHead(ToyHead):
    def __init__(self, config: PIXELConfig) -> None:
        super().__init__(config)
        self.tied = nn.Linear(config.hidden_size, 2)
        self.tied.weight = self.qa_outputs.weight  # one tensor under two names


def test_tied_tensors_save_and_load(tmp_path: Path) -> None:
    model = TiedHead(tiny_config())
    model.save_pretrained(tmp_path)
    loaded = TiedHead.from_pretrained(tmp_path)
    assert_same_state(model, loaded)
    assert loaded.tied.weight is loaded.qa_outputs.weight
