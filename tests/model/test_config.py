"""PIXELConfig: original defaults, config.json round trip, ViT configs, extras, credentials."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pixel.model.config import VARIANTS, PIXELConfig

GOLDEN = Path(__file__).parents[1] / "data" / "golden" / "model"


def test_defaults_are_pixel_base() -> None:
    # Values from the original constructor (spec 2.1), written out here independently.
    config = PIXELConfig()
    expected = {
        "hidden_size": 768,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "intermediate_size": 3072,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02,
        "layer_norm_eps": 1e-12,
        "image_size": [16, 8464],
        "patch_size": 16,
        "num_channels": 3,
        "qkv_bias": True,
        "decoder_num_attention_heads": 16,
        "decoder_hidden_size": 512,
        "decoder_num_hidden_layers": 8,
        "decoder_intermediate_size": 2048,
        "mask_ratio": 0.25,
        "norm_pix_loss": True,
    }
    for key, value in expected.items():
        assert getattr(config, key) == value, key
    assert config.num_patches == 529


def test_golden_pixel_base_config_round_trip(tmp_path: Path) -> None:
    golden = json.loads((GOLDEN / "pixel-base-config.json").read_text())
    config = PIXELConfig.from_json_file(GOLDEN / "pixel-base-config.json")
    assert config == PIXELConfig(architectures=["PIXELForPreTraining"], torch_dtype="float32")
    saved = config.to_dict()
    golden.pop("transformers_version")
    assert saved == golden
    config.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text()) == golden
    assert PIXELConfig.from_pretrained(tmp_path) == config
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]  # no temp file left


def test_image_size_int_or_pair() -> None:
    assert PIXELConfig(image_size=16).image_size == [16, 16]
    assert PIXELConfig(image_size=(16, 4096)).num_patches == 256
    with pytest.raises(ValueError, match="image_size"):
        PIXELConfig(image_size=[16, 0])
    with pytest.raises(ValueError, match="strip"):
        _ = PIXELConfig(image_size=224).num_patches


def test_finetuned_vit_config_loads(tmp_path: Path) -> None:
    # Shape of an original fine-tuned checkpoint's config: ViT model_type, truncated strip, labels.
    vit = {
        "model_type": "vit",
        "architectures": ["PIXELForSequenceClassification"],
        "hidden_size": 768,
        "image_size": [16, 4096],
        "encoder_stride": 16,
        "finetuning_task": "sst2",
        "id2label": {"0": "negative", "1": "positive"},
        "label2id": {"negative": 0, "positive": 1},
        "interpolate_pos_encoding": False,
        "transformers_version": "4.17.0",
    }
    (tmp_path / "config.json").write_text(json.dumps(vit))
    config = PIXELConfig.from_pretrained(tmp_path)
    assert config.num_patches == 256
    assert config.id2label == {0: "negative", 1: "positive"}
    assert config.num_labels == 2
    assert config.finetuning_task == "sst2"
    assert config.encoder_stride == 16  # unknown keys are kept and written back
    assert config.decoder_hidden_size == 512
    again = PIXELConfig.from_dict(json.loads(config.to_json_string()))
    assert again == config and again.id2label == config.id2label


def test_foreign_model_type_is_refused() -> None:
    with pytest.raises(ValueError, match="bert"):
        PIXELConfig.from_dict({"model_type": "bert"})


def test_extra_attributes_round_trip(tmp_path: Path) -> None:
    config = PIXELConfig(hidden_size=32)
    config.pooling_mode = "pma4"
    config.max_seq_length = 256
    config.num_labels = 3
    config.save_pretrained(tmp_path)
    loaded = PIXELConfig.from_pretrained(tmp_path / "config.json")
    assert loaded.pooling_mode == "pma4" and loaded.max_seq_length == 256
    assert loaded.num_labels == 3 and loaded.id2label == {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}
    assert PIXELConfig.from_dict({"num_labels": 5}).num_labels == 5
    # an override wins over the stored labels; an explicit id2label wins over num_labels
    assert PIXELConfig.from_pretrained(tmp_path, num_labels=4).num_labels == 4
    assert PIXELConfig.from_pretrained(tmp_path).id2label[2] == "LABEL_2"
    both = PIXELConfig.from_dict({"num_labels": 7}, id2label={"0": "a"}, num_labels=9)
    assert both.id2label == {0: "a"} and both.num_labels == 1


def test_credentials_are_never_stored(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = PIXELConfig.from_dict({"hub_token": "hf_secret", "use_auth_token": "hf_secret", "token": "x"})
    config.save_pretrained(tmp_path)
    text = (tmp_path / "config.json").read_text()
    assert "secret" not in text and "token" not in text
    assert "credential" in caplog.text


def test_bad_json_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        PIXELConfig.from_pretrained(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        PIXELConfig.from_pretrained(tmp_path / "nowhere" / "deeper")


def test_variants_base_is_pixel_base_and_tiny_is_the_original_tiny_checkpoint() -> None:
    assert PIXELConfig.variant("base") == PIXELConfig()
    original_tiny = PIXELConfig.from_json_file(GOLDEN / "tiny-pixel" / "config.json")
    for key, value in VARIANTS["tiny"].items():
        assert getattr(original_tiny, key) == value, key
    config = PIXELConfig.variant("tiny", image_size=[16, 256], hidden_dropout_prob=0.0)
    assert (config.hidden_size, config.num_patches, config.hidden_dropout_prob) == (32, 16, 0.0)
    with pytest.raises(ValueError, match="unknown model variant .huge.; choose one of base, small, lotz-tiny, tiny"):
        PIXELConfig.variant("huge")


def test_unknown_config_keys_are_warned_about_once(tmp_path, caplog):
    # Accepted silently before: a typo such as "hiden_size" left the field at its default.
    import logging

    config = json.loads((GOLDEN / "tiny-pixel" / "config.json").read_text())
    config.update(hiden_size=64, my_setting=1)
    (tmp_path / "config.json").write_text(json.dumps(config))
    with caplog.at_level(logging.WARNING, logger="pixel.model.config"):
        first = PIXELConfig.from_pretrained(tmp_path)
        PIXELConfig.from_pretrained(tmp_path)
    warnings = [r.getMessage() for r in caplog.records if "does not use" in r.getMessage()]
    assert len(warnings) == 1
    assert "hiden_size (did you mean hidden_size?), my_setting; they are kept" in warnings[0]
    assert first.my_setting == 1
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="pixel.model.config"):
        PIXELConfig.from_pretrained(GOLDEN / "tiny-pixel")  # the original's config (torch_dtype, transformers_version): no warning
    assert not caplog.records
