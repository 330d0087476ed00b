"""Every model class on a tiny config (timm style): shapes, gradients, save/load, loading a pretraining
checkpoint, state-dict keys at pixel-base size against the original's key lists."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from pixel.model.config import PIXELConfig
from pixel.model.heads import (
    PIXELForBiaffineParsing,
    PIXELForQuestionAnswering,
    PIXELForSequenceClassification,
    PIXELForTokenClassification,
)
from pixel.model.pixel import PIXELForPreTraining, PIXELModel

GOLDEN = Path(__file__).parents[1] / "data/golden/model"
L = 8  # patches of the tiny strip
B = 2


def tiny_config(num_labels: int = 3, num_patches: int = L, **overrides: Any) -> PIXELConfig:
    config = PIXELConfig.variant("tiny", image_size=[16, 16 * num_patches], **overrides)
    config.num_labels = num_labels
    return config


def strip_inputs(batch: int = B, num_patches: int = L, seed: int = 0) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    attention_mask = torch.zeros(batch, num_patches)
    attention_mask[0, :3] = 1  # short text: 2 text patches + end patch, then padding
    attention_mask[1:, :] = 1
    return {
        "pixel_values": torch.rand(batch, 3, 16, 16 * num_patches, generator=generator),
        "attention_mask": attention_mask,
    }


def parsing_labels(batch: int = B, num_patches: int = L) -> dict[str, torch.Tensor]:
    word_starts = torch.full((batch, num_patches + 1), -100)
    arc_labels = torch.full((batch, num_patches), -100)
    rel_labels = torch.full((batch, num_patches), -100)
    word_starts[0, :3] = torch.tensor([0, 1, 2])  # two words of one patch each
    arc_labels[0, :2] = torch.tensor([0, 1])
    rel_labels[0, :2] = torch.tensor([1, 2])
    word_starts[1:, :4] = torch.tensor([0, 2, 2, 7])  # words [0, 2), [2] alone, [2, 7)
    arc_labels[1:, :3] = torch.tensor([2, 0, 2])
    rel_labels[1:, :3] = torch.tensor([0, 3, 4])
    return {"word_starts": word_starts, "arc_labels": arc_labels, "rel_labels": rel_labels}


@dataclasses.dataclass
class Case:
    id: str
    build: Callable[[PIXELConfig], torch.nn.Module]
    labels: Callable[[], dict[str, torch.Tensor]]
    shapes: dict[str, tuple[int, ...]]
    num_labels: int = 3
    uses_checkpoint_head: bool = True  # a pretraining checkpoint leaves some weights newly initialised


def seq_cls(mode: str, add_layer_norm: bool = True) -> Callable[[PIXELConfig], torch.nn.Module]:
    return lambda config: PIXELForSequenceClassification(
        config, pooling_mode=mode, add_layer_norm=add_layer_norm
    )


CASES = [
    Case(
        "PIXELModel",
        lambda c: PIXELModel(c),
        dict,
        {"last_hidden_state": (B, 1 + L, 32)},
        uses_checkpoint_head=False,
    ),
    Case(
        "PIXELModel-pooler",
        lambda c: PIXELModel(c, add_pooling_layer=True),
        dict,
        {"last_hidden_state": (B, 1 + L, 32), "pooler_output": (B, 32)},
    ),
    Case(
        "PIXELForPreTraining",
        PIXELForPreTraining,
        dict,
        {"loss": (), "logits": (B, L, 768), "mask": (B, L), "ids_restore": (B, L)},
        uses_checkpoint_head=False,
    ),
    *[
        Case(
            f"SeqCls-{mode}",
            seq_cls(mode),
            lambda: {"labels": torch.tensor([0, 2])},
            {"loss": (), "logits": (B, 3)},
        )
        for mode in ("mean", "max", "cls", "pma4")
    ],
    Case(
        "SeqCls-mean-noLN",
        seq_cls("mean", False),
        lambda: {"labels": torch.tensor([1, 2])},
        {"logits": (B, 3)},
    ),
    Case(
        "SeqCls-pma2-noLN",
        seq_cls("pma2", False),
        lambda: {"labels": torch.tensor([1, 0])},
        {"logits": (B, 3)},
    ),
    Case(
        "SeqCls-regression",
        seq_cls("mean"),
        lambda: {"labels": torch.tensor([0.5, -1.0])},
        {"loss": (), "logits": (B, 1)},
        num_labels=1,
    ),
    Case(
        "SeqCls-multilabel",
        seq_cls("max"),
        lambda: {"labels": torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])},
        {"loss": (), "logits": (B, 3)},
    ),
    Case(
        "TokenCls",
        PIXELForTokenClassification,
        lambda: {
            "labels": torch.tensor([[0, 1, 2, -100, -100, -100, -100, -100], [2, 2, 1, 0, 1, 0, 1, -100]])
        },
        {"loss": (), "logits": (B, L, 3)},
    ),
    Case(
        "QA",
        PIXELForQuestionAnswering,
        lambda: {"start_positions": torch.tensor([1, L]), "end_positions": torch.tensor([2, L])},
        {"loss": (), "start_logits": (B, L + 1), "end_logits": (B, L + 1)},
        num_labels=2,
    ),
    Case(
        "Parsing",
        PIXELForBiaffineParsing,
        parsing_labels,
        {"loss": (), "arc_logits": (B, L, L + 1), "rel_logits": (B, L, L + 1, 5)},
        num_labels=5,
    ),
]
HEAD_CASES = [case for case in CASES if case.uses_checkpoint_head and case.id != "PIXELModel-pooler"]


def build(case: Case, **overrides: Any) -> torch.nn.Module:
    torch.manual_seed(0)
    model = case.build(tiny_config(case.num_labels, **overrides))
    if case.id == "Parsing":  # biaffine weights start at zero, which would block every gradient below them
        for biaffine in (model.biaffine_arcs, model.biaffine_rels):
            torch.nn.init.normal_(biaffine.weight, std=0.1)
    return model


def run(model: torch.nn.Module, case: Case, **extra: Any) -> Any:
    return model(**strip_inputs(), **case.labels(), **extra)


def scalar_objective(output: Any) -> torch.Tensor:
    if getattr(output, "loss", None) is not None:
        return output.loss
    weights = torch.linspace(-1, 1, output.last_hidden_state.numel()).view_as(output.last_hidden_state)
    objective = (output.last_hidden_state * weights).sum()
    if output.pooler_output is not None:
        objective = objective + output.pooler_output.sum()
    return objective


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_output_shapes(case: Case) -> None:
    model = build(case).train()
    output = run(model, case)
    for name, shape in case.shapes.items():
        value = getattr(output, name)
        assert tuple(value.shape) == shape, name
        assert torch.isfinite(value.float()).all(), name
    with_states = run(model.eval(), case, output_hidden_states=True, output_attentions=True)
    assert len(with_states.hidden_states) == 3 and len(with_states.attentions) == 2
    assert with_states.attentions[0].shape[-1] == (1 + 6 if case.id == "PIXELForPreTraining" else 1 + L)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_backward_reaches_every_trainable_parameter(case: Case) -> None:
    model = build(case).train()
    scalar_objective(run(model, case)).backward()
    without_gradient = [
        name
        for name, parameter in model.named_parameters()
        if parameter.requires_grad and (parameter.grad is None or not bool(parameter.grad.abs().sum() > 0))
    ]
    assert without_gradient == []
    frozen = {name for name, parameter in model.named_parameters() if not parameter.requires_grad}
    for name in frozen:
        assert model.get_parameter(name).grad is None
    expected_frozen = {
        "PIXELForPreTraining": {"vit.embeddings.position_embeddings", "decoder.decoder_pos_embed"},
        "SeqCls-cls": {"pooler.linear.weight", "pooler.linear.bias", "pooler.ln.weight", "pooler.ln.bias"},
        "SeqCls-pma4": {"pooler.linear.weight", "pooler.linear.bias"},
        "SeqCls-mean-noLN": {"pooler.ln.weight", "pooler.ln.bias"},
        "SeqCls-pma2-noLN": {
            "pooler.linear.weight",
            "pooler.linear.bias",
            "pooler.ln.weight",
            "pooler.ln.bias",
        },
        "QA": {"classifier.weight", "classifier.bias"},
        "Parsing": {"classifier.weight", "classifier.bias"},
    }
    assert frozen == expected_frozen.get(case.id, set())


def assert_same_state(a: torch.nn.Module, b: torch.nn.Module) -> None:
    state_a, state_b = a.state_dict(), b.state_dict()
    assert list(state_a) == list(state_b)
    for key in state_a:
        assert torch.equal(state_a[key], state_b[key]), key


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_save_load_round_trip_is_bit_exact(case: Case, tmp_path: Path) -> None:
    model = build(case).eval()
    model.save_pretrained(tmp_path)
    loaded = type(model).from_pretrained(tmp_path)  # head settings come from config.json
    assert_same_state(model, loaded)
    assert not loaded.training
    if isinstance(model, PIXELForPreTraining):
        noise = torch.rand(B, L, generator=torch.Generator().manual_seed(1))
        first, second = run(model, case, noise=noise), run(loaded, case, noise=noise)
    else:
        first, second = run(model, case), run(loaded, case)
    for name in case.shapes:
        assert torch.equal(getattr(first, name), getattr(second, name)), name
    if isinstance(model, PIXELForSequenceClassification):
        saved = json.loads((tmp_path / "config.json").read_text())
        assert saved["pooling_mode"] == model.pooling_mode
        assert saved["add_layer_norm"] == model.pooler.add_layer_norm
        assert loaded.pooler.kind == model.pooler.kind


@pytest.mark.parametrize("case", HEAD_CASES, ids=lambda c: c.id)
def test_pretraining_checkpoint_loads_into_each_head(case: Case, caplog: pytest.LogCaptureFixture) -> None:
    """The original's tiny PIXELForPreTraining (pytorch_model.bin): encoder weights land in `vit`, the decoder
    is dropped and the head is newly initialised, both reported in one warning."""
    checkpoint = torch.load(GOLDEN / "tiny-pixel/pytorch_model.bin", map_location="cpu", weights_only=True)
    cls = type(build(case))
    kwargs = {"pooling_mode": build(case).pooling_mode} if cls is PIXELForSequenceClassification else {}
    with caplog.at_level(logging.WARNING):
        model = cls.from_pretrained(GOLDEN / "tiny-pixel", num_labels=case.num_labels, **kwargs)
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "decoder" in messages and "Unused" in messages
    assert "Newly initialised" in messages
    head_keys = [k for k in model.state_dict() if not k.startswith("vit.")]
    assert head_keys and all(k.split(".")[0] in messages for k in head_keys)
    for key, value in model.state_dict().items():
        if key.startswith("vit.") and not key.startswith("vit.pooler."):
            assert torch.equal(value, checkpoint[key]), key
    num_patches = model.config.num_patches
    inputs = strip_inputs(num_patches=num_patches)
    extra = parsing_labels(num_patches=num_patches) if case.id == "Parsing" else {}
    output = model(**inputs, **extra)
    first = getattr(output, next(name for name in case.shapes if name != "loss"))
    assert first.shape[0] == B and torch.isfinite(first).all()


def test_encoder_checkpoint_without_prefix_loads_into_head(tmp_path: Path) -> None:
    encoder = PIXELModel(tiny_config())
    encoder.save_pretrained(tmp_path)
    head = PIXELForTokenClassification.from_pretrained(tmp_path, num_labels=4)
    for key, value in encoder.state_dict().items():
        assert torch.equal(head.state_dict()["vit." + key], value)
    assert head.classifier.out_features == 4


def test_original_checkpoint_without_head_settings_loads_with_arguments(tmp_path: Path) -> None:
    """Original fine-tuned checkpoints carry no pooling_mode/add_layer_norm: they are given when loading."""
    model = PIXELForSequenceClassification(tiny_config(), pooling_mode="cls", add_layer_norm=False).eval()
    model.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    del config["pooling_mode"], config["add_layer_norm"]
    (tmp_path / "config.json").write_text(json.dumps(config))
    loaded = PIXELForSequenceClassification.from_pretrained(
        tmp_path, pooling_mode="cls", add_layer_norm=False
    )
    assert_same_state(model, loaded)
    inputs = strip_inputs()
    assert torch.equal(model(**inputs).logits, loaded(**inputs).logits)


def golden_head_entries() -> list[tuple[str, dict[str, Any]]]:
    models = json.loads((GOLDEN / "pixel-base-keys.json").read_text())["models"]
    # PIXELForPreTraining and PIXELModel are checked by the model-core tests
    return [(n, e) for n, e in models.items() if n.startswith("PIXELFor") and n != "PIXELForPreTraining"]


HEAD_CLASSES = {
    cls.__name__: cls
    for cls in (
        PIXELForSequenceClassification,
        PIXELForTokenClassification,
        PIXELForQuestionAnswering,
        PIXELForBiaffineParsing,
    )
}


@pytest.mark.parametrize("name,entry", golden_head_entries(), ids=[n for n, _ in golden_head_entries()])
def test_state_dict_keys_match_the_original_at_pixel_base_size(name: str, entry: dict[str, Any]) -> None:
    class_name, _, arguments = name.partition("[")
    kwargs: dict[str, Any] = dict(a.split("=") for a in arguments.rstrip("]").split(",") if a)
    config = PIXELConfig()
    if "num_labels" in kwargs:
        config.num_labels = int(kwargs.pop("num_labels"))
    if "add_layer_norm" in kwargs:
        kwargs["add_layer_norm"] = kwargs["add_layer_norm"] == "True"
    with torch.device("meta"):
        model = HEAD_CLASSES[class_name](config, **kwargs)
    got = [(key, list(value.shape)) for key, value in model.state_dict().items()]
    assert got == [(item["key"], item["shape"]) for item in entry["state_dict"]]
    assert sum(value.numel() for value in model.state_dict().values()) == entry["num_params"]


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.id.startswith(("SeqCls", "Token", "QA", "Parsing"))], ids=lambda c: c.id
)
def test_bf16_autocast_forward_and_backward(case: Case) -> None:
    model = build(case).train()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        output = run(model, case)
    assert torch.isfinite(output.loss.float())
    output.loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_heads_are_exported_lazily() -> None:
    import pixel

    assert pixel.PIXELForSequenceClassification is PIXELForSequenceClassification
    assert pixel.PIXELForBiaffineParsing is PIXELForBiaffineParsing
    assert pixel.SpanMaskingGenerator.__module__ == "pixel.model.masking"
