"""Trainer options that the other tests do not cover: mixed precision, logging fields, validation."""

import math

import pytest
from toy import toy_task

from pixel.train.metrics import read_metrics
from pixel.train.trainer import Trainer


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_runs_and_logs(tmp_path, precision):
    task = toy_task(tmp_path, max_steps=3, save_every=0, eval_every=2, precision=precision, peak_tflops=1.0)
    trainer = Trainer(task, task.config)
    assert trainer.scaler.is_enabled() is (precision == "fp16")
    result = trainer.train()
    assert result["step"] == 3 and math.isfinite(result["loss"]) and math.isfinite(result["val_loss"])
    records = read_metrics(task.config.output_dir)
    assert [r["step"] for r in records if "val_loss" in r] == [2, 3]
    first = next(r for r in records if "loss" in r)
    assert first["mfu"] > 0 and first["strips_per_s"] > 0 and first["lr"] == 0.0  # warm-up starts at 0


def test_bad_settings_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="precision must be"):
        toy_task(tmp_path, precision="fp8")
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        toy_task(tmp_path, batch_size=0)
