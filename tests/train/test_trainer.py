"""Trainer options that the other tests do not cover: mixed precision, logging fields, validation."""

import math

import pytest
import torch
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


def test_validation_repeats_the_random_draws_of_the_forward(tmp_path):
    """PIXEL's forward fills the mask quota with randomly chosen patches; every evaluation must see the same
    ones, whatever training did to the random state in between, and must leave that state untouched."""
    task = toy_task(tmp_path)
    forward = task.model.forward

    def forward_with_a_random_draw(*args, **kwargs):
        output = forward(*args, **kwargs)
        output.loss = output.loss + torch.rand(())
        return output

    task.model.forward = forward_with_a_random_draw
    trainer = Trainer(task, task.config)
    first = trainer.evaluate()
    torch.rand(5)  # training draws in between
    state = torch.random.get_rng_state()
    assert trainer.evaluate() == first
    assert torch.equal(torch.random.get_rng_state(), state)


def test_greater_is_better_decides_the_best_evaluation():
    from pixel.train.trainer import TrainerConfig, best_position

    assert best_position([0.5, 0.9, 0.9, 0.7], greater_is_better=True) == 1
    assert best_position([0.5, 0.2, 0.7], greater_is_better=False) == 1
    assert TrainerConfig(metric_for_best_model="accuracy").metric_greater_is_better() is True
    assert TrainerConfig(metric_for_best_model="loss").metric_greater_is_better() is False
    assert TrainerConfig(metric_for_best_model="mse", greater_is_better=False).metric_greater_is_better() is False
    assert TrainerConfig(metric_for_best_model="loss", greater_is_better=True).metric_greater_is_better() is True
