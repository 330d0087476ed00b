"""Config files with overrides, and the zero-prediction baseline of the model card."""

import pytest
import torch

from pixel.pretrain.config import PretrainConfig
from pixel.pretrain.task import zero_prediction_loss
from pixel.train.config import load_config, parse_overrides


def test_yaml_then_command_line_overrides_with_types(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("max_steps: 10\nmodel:\n  hidden_size: 64\ntrain_files: [a.txt]\n")
    overrides = parse_overrides(["--max_steps", "3", "--learning_rate=2e-4", "--model.num_hidden_layers", "2",
                                 "--train_files", "b.txt", "--compile", "--peak_tflops", "null"])
    config = load_config(PretrainConfig, path, overrides)
    assert config.max_steps == 3 and config.learning_rate == 2e-4 and config.compile is True
    assert config.model == {"hidden_size": 64, "num_hidden_layers": 2}
    assert config.train_files == ["b.txt"] and config.peak_tflops is None
    assert config.batch_size == PretrainConfig().batch_size  # untouched keys keep their defaults


def test_config_errors_name_the_key(tmp_path):
    with pytest.raises(ValueError, match="did you mean max_steps"):
        load_config(PretrainConfig, None, [("max_step", "3")])
    with pytest.raises(ValueError, match="'batch_size': expected an integer"):
        load_config(PretrainConfig, None, [("batch_size", "1.5")])
    with pytest.raises(ValueError, match="has no sub-keys"):
        load_config(PretrainConfig, None, [("max_steps.x", "1")])
    with pytest.raises(ValueError, match="expected --KEY VALUE"):
        parse_overrides(["max_steps", "3"])
    with pytest.raises(FileNotFoundError, match="config file not found"):
        load_config(PretrainConfig, tmp_path / "missing.yaml")


def test_zero_prediction_loss_by_hand():
    # one strip of 2 patches: patch 0 half black / half white columns, patch 1 blank
    image = torch.full((1, 16, 32), 255, dtype=torch.uint8)
    image[0, :, :8] = 0
    batch = {"pixel_values": image, "attention_mask": torch.ones(1, 2), "patch_mask": torch.tensor([[1.0, 0.0]])}
    # 768 values (3 equal channels), half 0 half 1: biased variance 1/4, unbiased 1/4 * 768/767
    expected = 0.25 / (0.25 * 768 / 767 + 1e-6)
    assert zero_prediction_loss([batch]) == pytest.approx(expected, rel=1e-9)
    batch["patch_mask"] = torch.tensor([[1.0, 1.0]])  # the blank patch's target is all zeros: loss 0
    assert zero_prediction_loss([batch]) == pytest.approx(expected / 2, rel=1e-9)
    # the model's own masks (quota fill included) replace patch_mask when given
    assert zero_prediction_loss([batch], masks=[torch.tensor([[1.0, 0.0]])]) == pytest.approx(expected, rel=1e-9)
