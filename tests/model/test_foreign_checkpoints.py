"""Checkpoints of the second generation of Team-PIXEL models load into every model class.

PIXEL-M4 (`Team-PIXEL/pixel-m4`, code ilkerkesen/pixel-m4 at d22be71) and Lotz et al.'s
`Team-PIXEL/pixel-{tiny,small,base}-{continuous,bigrams,mono,words}` are written by transformers (4.17 / 4.28)
as config.json + pytorch_model.bin. The tests write such folders themselves, from a key layout written out
here from M4's module code (`m4_layout`), and check that layout against the original PIXEL's key list
(tests/data/golden/model/pixel-base-keys.json, produced by the original code): M4 kept every key. What M4
changed and what is checked here: `PIXELConfig` defaults (mask_ratio 0.0), bf16 weights (`torch_dtype`),
config keys of transformers 4.28 (`interpolate_pos_encoding`, ...), strips shorter than the position table
(M4 pads batches to 63, 127, ... patches), and the Lotz sizes (small, lotz-tiny).
"""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path
from typing import Any

import pytest
import torch

from pixel.model.config import VARIANTS, PIXELConfig
from pixel.model.heads import (
    PIXELForBiaffineParsing,
    PIXELForQuestionAnswering,
    PIXELForSequenceClassification,
    PIXELForTokenClassification,
)
from pixel.model.pixel import PIXELForPreTraining, PIXELModel
from pixel.model.resize import resize_position_embeddings

GOLDEN = Path(__file__).parents[1] / "data/golden/model"
PATCH_VALUES = 16 * 16 * 3
TINY = VARIANTS["tiny"]
L = 8  # patches of the tiny test strips


# ------------------------------------------------------------------------------------ the foreign layout
def layer_layout(prefix: str, width: int, inner: int) -> dict[str, tuple[int, ...]]:
    """One PIXELLayer / ViTLayer of M4 (attention.attention.{query,key,value}, attention.output.dense,
    intermediate.dense, output.dense, layernorm_before, layernorm_after)."""
    keys: dict[str, tuple[int, ...]] = {}
    for name in ("attention.attention.query", "attention.attention.key", "attention.attention.value",
                 "attention.output.dense"):
        keys[f"{prefix}.{name}.weight"], keys[f"{prefix}.{name}.bias"] = (width, width), (width,)
    keys[f"{prefix}.intermediate.dense.weight"], keys[f"{prefix}.intermediate.dense.bias"] = (inner, width), (inner,)
    keys[f"{prefix}.output.dense.weight"], keys[f"{prefix}.output.dense.bias"] = (width, inner), (width,)
    for norm in ("layernorm_before", "layernorm_after"):
        keys[f"{prefix}.{norm}.weight"], keys[f"{prefix}.{norm}.bias"] = (width,), (width,)
    return keys


def m4_layout(head: str, sizes: dict[str, int], patches: int, labels: int = 3) -> dict[str, tuple[int, ...]]:
    """Key -> shape of a PIXEL-M4 checkpoint. head: "pretraining" (PIXELForPreTraining: PIXELModel without
    pooler + PIXELDecoder), or a fine-tuned head built on transformers' ViTForImageClassification (which adds
    `classifier` [labels, D] to every head): "token", "sequence-mean", "sequence-cls", "qa", "parsing"."""
    h, pos = sizes["hidden_size"], (1, patches + 1)
    keys: dict[str, tuple[int, ...]] = {
        "vit.embeddings.cls_token": (1, 1, h),
        "vit.embeddings.position_embeddings": (*pos, h),
        "vit.embeddings.patch_embeddings.projection.weight": (h, 3, 16, 16),
        "vit.embeddings.patch_embeddings.projection.bias": (h,),
    }
    for i in range(sizes["num_hidden_layers"]):
        keys.update(layer_layout(f"vit.encoder.layer.{i}", h, sizes["intermediate_size"]))
    keys["vit.layernorm.weight"], keys["vit.layernorm.bias"] = (h,), (h,)
    if head == "pretraining":
        d = sizes["decoder_hidden_size"]
        keys.update({"decoder.mask_token": (1, 1, d), "decoder.decoder_pos_embed": (*pos, d),
                     "decoder.decoder_embed.weight": (d, h), "decoder.decoder_embed.bias": (d,)})
        for i in range(sizes["decoder_num_hidden_layers"]):
            keys.update(layer_layout(f"decoder.decoder_layers.{i}", d, sizes["decoder_intermediate_size"]))
        keys.update({"decoder.decoder_norm.weight": (d,), "decoder.decoder_norm.bias": (d,),
                     "decoder.decoder_pred.weight": (PATCH_VALUES, d), "decoder.decoder_pred.bias": (PATCH_VALUES,)})
        return keys
    keys["classifier.weight"], keys["classifier.bias"] = (labels, h), (labels,)
    if head in ("sequence-cls", "parsing"):
        keys["vit.pooler.dense.weight"], keys["vit.pooler.dense.bias"] = (h, h), (h,)
    if head.startswith("sequence"):
        keys.update({"pooler.linear.weight": (h, h), "pooler.linear.bias": (h,), "pooler.ln.weight": (h,),
                     "pooler.ln.bias": (h,)})
    if head == "qa":
        keys["qa_outputs.weight"], keys["qa_outputs.bias"] = (2, h), (2,)
    if head == "parsing":
        keys["biaffine_arcs.weight"] = (1, h + 1, h)
        keys["biaffine_rels.weight"] = (labels, h + 1, h + 1)
    return keys


# golden entry of the original's key list -> (M4 head, labels)
ORIGINAL_ENTRIES = {
    "PIXELForPreTraining": ("pretraining", 0),
    "PIXELForSequenceClassification[pooling_mode=mean,add_layer_norm=True,num_labels=3]": ("sequence-mean", 3),
    "PIXELForSequenceClassification[pooling_mode=cls,add_layer_norm=True,num_labels=3]": ("sequence-cls", 3),
    "PIXELForTokenClassification[num_labels=5]": ("token", 5),
    "PIXELForQuestionAnswering[num_labels=2]": ("qa", 2),
    "PIXELForBiaffineParsing[num_labels=37]": ("parsing", 37),
}


@pytest.mark.parametrize("entry", ORIGINAL_ENTRIES)
def test_m4_layout_is_the_original_layout(entry: str) -> None:
    """M4's modules (read from its code) give exactly the original PIXEL's keys and shapes at pixel-base size."""
    original = json.loads((GOLDEN / "pixel-base-keys.json").read_text())["models"][entry]["state_dict"]
    head, labels = ORIGINAL_ENTRIES[entry]
    expected = {item["key"]: tuple(item["shape"]) for item in original}
    assert m4_layout(head, VARIANTS["base"], 529, labels) == expected


def m4_config(architecture: str, patches: int = L, **fields: Any) -> dict[str, Any]:
    """config.json as transformers 4.28 writes M4's PIXELConfig (sizes of the tiny test variant)."""
    return {"_name_or_path": "/scratch/pixel-m4/checkpoint-1000000", "architectures": [architecture],
            "attention_probs_dropout_prob": 0.1, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
            "image_size": [16, 16 * patches], "initializer_range": 0.02, "layer_norm_eps": 1e-12,
            "mask_ratio": 0.25, "model_type": "pixel", "norm_pix_loss": True, "num_channels": 3, "patch_size": 16,
            "qkv_bias": True, "torch_dtype": "float32", "transformers_version": "4.28.1", **TINY, **fields}


def write_checkpoint(folder: Path, layout: dict[str, tuple[int, ...]], config: dict[str, Any],
                     dtype: torch.dtype = torch.float32, weights: str = "pytorch_model.bin") -> dict[str, torch.Tensor]:
    """Random tensors of ``layout`` in ``dtype`` as pytorch_model.bin (torch.save) or model.safetensors."""
    generator = torch.Generator().manual_seed(0)
    state = {key: (0.02 * torch.randn(shape, generator=generator)).to(dtype) for key, shape in layout.items()}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    if weights.endswith(".safetensors"):
        from safetensors.torch import save_file

        save_file(state, str(folder / weights))
    else:
        torch.save(state, folder / weights)
    return state


def strips(patches: int = L, batch: int = 2, text: int = 3) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    attention_mask = torch.zeros(batch, patches)
    attention_mask[:, :text] = 1
    return {"pixel_values": torch.rand(batch, 3, 16, 16 * patches, generator=generator),
            "attention_mask": attention_mask}


def warnings_of(caplog: pytest.LogCaptureFixture) -> str:
    return " ".join(r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)


# ------------------------------------------------------------------------------- PIXEL-M4 pretraining
# class -> constructor kwargs; heads get their size from the caller (num_labels, pooling mode)
CLASSES: dict[str, tuple[type, dict[str, Any]]] = {
    "PIXELForPreTraining": (PIXELForPreTraining, {}),
    "PIXELModel": (PIXELModel, {}),
    "SeqCls-mean": (PIXELForSequenceClassification, {"pooling_mode": "mean", "num_labels": 3}),
    "SeqCls-cls": (PIXELForSequenceClassification, {"pooling_mode": "cls", "num_labels": 3}),
    "TokenCls": (PIXELForTokenClassification, {"num_labels": 3}),
    "QA": (PIXELForQuestionAnswering, {"num_labels": 2}),
    "Parsing": (PIXELForBiaffineParsing, {"num_labels": 3}),
}


@pytest.fixture(scope="module", params=["pytorch_model.bin", "model.safetensors"])
def m4_pretraining(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A PIXEL-M4-style pretraining folder: bf16 weights (M4 trained from scratch in bf16 with deepspeed)."""
    folder = tmp_path_factory.mktemp("pixel-m4")
    state = write_checkpoint(folder, m4_layout("pretraining", TINY, L),
                             m4_config("PIXELForPreTraining", torch_dtype="bfloat16"), torch.bfloat16,
                             request.param)
    return folder, state


@pytest.mark.parametrize("name", CLASSES)
def test_m4_pretraining_checkpoint_loads_into_every_class(
    name: str, m4_pretraining, caplog: pytest.LogCaptureFixture
) -> None:
    folder, checkpoint = m4_pretraining
    cls, kwargs = CLASSES[name]
    with caplog.at_level(logging.WARNING):
        model = cls.from_pretrained(folder, **kwargs)
    state, messages = model.state_dict(), warnings_of(caplog)
    loaded = {key for key in state if key in checkpoint or "vit." + key in checkpoint}
    for key in loaded:  # bf16 weights upcast exactly into the float32 model
        value = checkpoint[key] if key in checkpoint else checkpoint["vit." + key]
        assert state[key].dtype == torch.float32 and torch.equal(state[key], value.float()), key
    encoder_keys = {k for k in checkpoint if k.startswith("vit.")}
    if name == "PIXELForPreTraining":
        assert loaded == set(state) == set(checkpoint) and messages == ""
    elif name == "PIXELModel":
        assert {"vit." + k for k in loaded} == encoder_keys == {"vit." + k for k in state}
        assert messages.endswith("Unused checkpoint weights (dropped): decoder.* (40 tensors).")
    else:
        assert loaded == encoder_keys
        new = sorted(set(state) - loaded)
        assert new and all(not k.startswith("vit.") or k.startswith("vit.pooler.") for k in new)
        assert "Newly initialised" in messages and "Unused checkpoint weights (dropped): decoder.*" in messages
    # M4 feeds strips shorter than the position table (batches padded to 63, 127, ... patches)
    inputs = strips(patches=5)
    extra = {"mask_ratio": 0.25} if name == "PIXELForPreTraining" else {}
    if name == "Parsing":
        extra = {"word_starts": torch.tensor([[0, 1, 3], [0, 2, 3]])}
    output = model(**inputs, **extra)
    first = next(v for v in vars(output).values() if isinstance(v, torch.Tensor))
    assert torch.isfinite(first).all()


def test_m4_config_default_mask_ratio_zero_is_a_clear_error(tmp_path: Path) -> None:
    """M4's PIXELConfig defaults to mask_ratio 0.0: the model loads, reconstruction asks for a ratio."""
    write_checkpoint(tmp_path, m4_layout("pretraining", TINY, L), m4_config("PIXELForPreTraining", mask_ratio=0.0))
    model = PIXELForPreTraining.from_pretrained(tmp_path)
    assert model.config.mask_ratio == 0.0
    with pytest.raises(ValueError, match="needs mask_ratio > 0.*PIXEL-M4's config default.*mask_ratio=0.25"):
        model(**strips())
    output = model(**strips(), mask_ratio=0.25)
    assert int(output.mask.sum(dim=1)[0]) == L - int(L * 0.75)


# ------------------------------------------------------------------------------- PIXEL-M4 fine-tuned
HEADS = {  # M4 head layout -> (class, kwargs, labels, extra config fields of the fine-tuning scripts)
    "token": (PIXELForTokenClassification, {}, 4, {"finetuning_task": "pos"}),
    "sequence-mean": (PIXELForSequenceClassification, {"pooling_mode": "mean"}, 3,
                      {"problem_type": "single_label_classification"}),
    "sequence-cls": (PIXELForSequenceClassification, {"pooling_mode": "cls"}, 3, {}),
    "qa": (PIXELForQuestionAnswering, {}, 2, {}),
    "parsing": (PIXELForBiaffineParsing, {}, 5, {"pad_token_id": -100}),
}


@pytest.mark.parametrize("head", HEADS)
def test_m4_finetuned_checkpoint_loads_completely(head: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Fine-tuned heads of M4's scripts (ViTForImageClassification subclasses, position embeddings truncated to
    the task length) load with every tensor, nothing reported, and run."""
    cls, kwargs, labels, fields = HEADS[head]
    id2label = {str(i): f"L{i}" for i in range(labels)}
    config = m4_config(cls.__name__, patches=6, interpolate_pos_encoding=False, id2label=id2label,
                       label2id={v: int(k) for k, v in id2label.items()}, **fields)
    checkpoint = write_checkpoint(tmp_path, m4_layout(head, TINY, 6, labels), config)
    with caplog.at_level(logging.WARNING):
        model = cls.from_pretrained(tmp_path, **kwargs)
    assert warnings_of(caplog) == ""
    state = model.state_dict()
    assert set(state) == set(checkpoint)
    for key, value in checkpoint.items():
        assert torch.equal(state[key], value), key
    assert model.config.num_patches == 6 and model.config.num_labels == labels
    assert model.config.interpolate_pos_encoding is False  # foreign keys are kept (and saved back)
    extra = {"word_starts": torch.tensor([[0, 2, 3], [0, 1, 3]])} if head == "parsing" else {}
    output = model(**strips(patches=6), **extra)
    assert all(torch.isfinite(v).all() for v in vars(output).values() if isinstance(v, torch.Tensor))


# ------------------------------------------------------------------------- variable length and dtype
def test_shorter_strip_equals_truncated_position_embeddings() -> None:
    """A strip of L' < L patches reads the first 1 + L' position rows: the same numbers as the model cut to L'
    (PIXEL-M4's variable-length batches; the original's fine-tuning truncation)."""
    torch.manual_seed(0)
    config = PIXELConfig.variant("tiny", image_size=[16, 16 * L])
    inputs = strips(patches=5)
    patch_mask = torch.tensor([[0, 1, 0, 0, 0], [1, 0, 0, 0, 0]], dtype=torch.float32)
    noise = torch.rand(2, 5, generator=torch.Generator().manual_seed(2))
    for model in (PIXELModel(config).eval(), PIXELForPreTraining(config).eval(),
                  PIXELForTokenClassification(config).eval()):
        cut = resize_position_embeddings(copy.deepcopy(model), 5)
        extra = {"patch_mask": patch_mask, "noise": noise} if isinstance(model, PIXELForPreTraining) else {}
        with torch.no_grad():
            got, expected = model(**inputs, **extra), cut(**inputs, **extra)
        for name, value in vars(expected).items():
            if isinstance(value, torch.Tensor):
                assert torch.equal(getattr(got, name), value), (type(model).__name__, name)
    with pytest.raises(ValueError, match=r"L <= 8 patches"):
        PIXELModel(config)(torch.rand(1, 3, 16, 16 * 9))
    with pytest.raises(ValueError, match="pixel_values has shape"):
        PIXELModel(config)(torch.rand(1, 3, 16, 16 * 4 + 8))


@pytest.mark.parametrize("name", CLASSES)
def test_bf16_model_runs(name: str) -> None:
    """A model cast to bf16 (as M4 trained) takes float32 strips and returns finite outputs in bf16."""
    cls, kwargs = CLASSES[name]
    config = PIXELConfig.variant("tiny", image_size=[16, 16 * L])
    config.num_labels = kwargs.get("num_labels", 2)
    settings = {"pooling_mode": kwargs["pooling_mode"]} if "pooling_mode" in kwargs else {}
    model = cls(config, **settings).to(torch.bfloat16).eval()
    extra = {"word_starts": torch.tensor([[0, 1, 3], [0, 2, 3]])} if name == "Parsing" else {}
    with torch.no_grad():
        output = model(**strips(), **extra)
    tensors = {k: v for k, v in vars(output).items() if isinstance(v, torch.Tensor) and v.is_floating_point()}
    assert tensors and all(torch.isfinite(v.float()).all() for v in tensors.values())
    main = next(v for k, v in tensors.items() if k in ("logits", "last_hidden_state", "start_logits", "arc_logits"))
    assert main.dtype == torch.bfloat16


# ---------------------------------------------------------------------------------- Lotz et al. sizes
# config.json of Team-PIXEL/pixel-small-bigrams and pixel-tiny-continuous as on the Hub (model fields)
HUB_CONFIGS = {
    "small": {"_name_or_path": "/scratch/project/dd-23-53/experiments/pixel-small-bigrams/checkpoint-40000",
              "architectures": ["PIXELForPreTraining"], "attention_probs_dropout_prob": 0.1,
              "decoder_hidden_size": 264, "decoder_intermediate_size": 1056, "decoder_num_attention_heads": 6,
              "decoder_num_hidden_layers": 4, "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": 384,
              "image_size": [16, 8464], "initializer_range": 0.02, "intermediate_size": 1536,
              "layer_norm_eps": 1e-12, "mask_ratio": 0.25, "model_type": "pixel", "norm_pix_loss": True,
              "num_attention_heads": 6, "num_channels": 3, "num_hidden_layers": 12, "patch_size": 16,
              "qkv_bias": True, "torch_dtype": "float32", "transformers_version": "4.17.0"},
    "lotz-tiny": {"_name_or_path": "/scratch/project/dd-23-53/experiments/pixel-tiny/checkpoint-200000",
                  "architectures": ["PIXELForPreTraining"], "attention_probs_dropout_prob": 0.1,
                  "decoder_hidden_size": 144, "decoder_intermediate_size": 768, "decoder_num_attention_heads": 4,
                  "decoder_num_hidden_layers": 2, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
                  "hidden_size": 192, "image_size": [16, 8464], "initializer_range": 0.02,
                  "intermediate_size": 768, "layer_norm_eps": 1e-12, "mask_ratio": 0.25, "model_type": "pixel",
                  "norm_pix_loss": True, "num_attention_heads": 4, "num_channels": 3, "num_hidden_layers": 12,
                  "patch_size": 16, "qkv_bias": True, "torch_dtype": "float32", "transformers_version": "4.17.0"},
}
# pytorch_model.bin sizes the Hub lists (pixel-small-*: 103 MB, pixel-tiny-*: 25.8 MB, pixel-base: 449 MB)
HUB_WEIGHT_BYTES = {"small": 103e6, "lotz-tiny": 25.8e6, "base": 449e6}


def expected_parameters(sizes: dict[str, int], patches: int = 529) -> tuple[int, int]:
    """(encoder, decoder) parameters of a PIXEL pretraining model, counted from the module list."""
    def layer(d: int, m: int) -> int:
        return 4 * (d * d + d) + 4 * d + (d * m + m) + (m * d + d)

    h, d = sizes["hidden_size"], sizes["decoder_hidden_size"]
    encoder = (h + (patches + 1) * h + (PATCH_VALUES * h + h) + 2 * h
               + sizes["num_hidden_layers"] * layer(h, sizes["intermediate_size"]))
    decoder = ((h * d + d) + d + (patches + 1) * d + 2 * d + (d * PATCH_VALUES + PATCH_VALUES)
               + sizes["decoder_num_hidden_layers"] * layer(d, sizes["decoder_intermediate_size"]))
    return encoder, decoder


def test_parameter_formula_matches_the_original_pixel_base() -> None:
    golden = json.loads((GOLDEN / "pixel-base-keys.json").read_text())["models"]["PIXELForPreTraining"]
    assert expected_parameters(VARIANTS["base"]) == (golden["num_params_encoder"], golden["num_params_decoder"])


@pytest.mark.parametrize("name", ["small", "lotz-tiny", "base"])
def test_named_sizes_build_with_the_hub_shapes(name: str) -> None:
    with torch.device("meta"):
        model = PIXELForPreTraining(PIXELConfig.variant(name))
    encoder = sum(p.numel() for p in model.vit.parameters())
    decoder = sum(p.numel() for p in model.decoder.parameters())
    assert (encoder, decoder) == expected_parameters(VARIANTS[name])
    # float32 weights are within 1 % of the pytorch_model.bin the Hub lists for that size
    assert abs(4 * (encoder + decoder) / HUB_WEIGHT_BYTES[name] - 1) < 0.01
    sizes, state = VARIANTS[name], model.state_dict()
    last, last_decoder = sizes["num_hidden_layers"] - 1, sizes["decoder_num_hidden_layers"] - 1
    assert state["vit.embeddings.position_embeddings"].shape == (1, 530, sizes["hidden_size"])
    assert state[f"vit.encoder.layer.{last}.intermediate.dense.weight"].shape == (
        sizes["intermediate_size"], sizes["hidden_size"])
    assert state[f"decoder.decoder_layers.{last_decoder}.intermediate.dense.weight"].shape == (
        sizes["decoder_intermediate_size"], sizes["decoder_hidden_size"])
    assert f"decoder.decoder_layers.{last_decoder + 1}.output.dense.bias" not in state
    assert model.vit.encoder.layer[0].attention.attention.num_heads == sizes["num_attention_heads"]
    assert model.decoder.decoder_layers[0].attention.attention.num_heads == sizes["decoder_num_attention_heads"]


@pytest.mark.parametrize("name", HUB_CONFIGS)
def test_lotz_hub_configs_are_the_named_sizes(name: str, tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(HUB_CONFIGS[name]))
    config = PIXELConfig.from_pretrained(tmp_path)
    assert config == PIXELConfig.variant(name, architectures=["PIXELForPreTraining"], torch_dtype="float32")


@pytest.fixture(scope="module")
def lotz_tiny(tmp_path_factory: pytest.TempPathFactory):
    """A pixel-tiny-continuous-shaped folder: the Hub config.json and random float32 weights in its layout."""
    folder = tmp_path_factory.mktemp("pixel-tiny-continuous")
    state = write_checkpoint(folder, m4_layout("pretraining", VARIANTS["lotz-tiny"], 529), HUB_CONFIGS["lotz-tiny"])
    return folder, state


@pytest.mark.parametrize("name", CLASSES)
def test_lotz_checkpoint_loads_into_every_class(name: str, lotz_tiny) -> None:
    folder, checkpoint = lotz_tiny
    cls, kwargs = CLASSES[name]
    model = cls.from_pretrained(folder, **kwargs)
    state = model.state_dict()
    prefix = "" if name == "PIXELForPreTraining" else "vit."
    encoder = [k for k in state if (prefix + k if name == "PIXELModel" else k) in checkpoint]
    assert len(encoder) == (len(checkpoint) if name == "PIXELForPreTraining" else
                            sum(k.startswith("vit.") for k in checkpoint))
    for key in encoder:
        assert torch.equal(state[key], checkpoint[key if name != "PIXELModel" else "vit." + key]), key
    assert model.config.hidden_size == 192 and model.config.num_patches == 529
