"""Learning-rate schedule (spec 3.1: linear warm-up, half-cosine to a floor) and AdamW groups."""

import math

import pytest
import torch
from torch import nn

from pixel.train.optim import build_optimizer, split_decay_parameters
from pixel.train.schedule import WarmupCosineSchedule, warmup_cosine_lr


def test_original_recipe_values():
    lr = lambda step: warmup_cosine_lr(step, 1.5e-4, 50_000, 1_000_000, 1e-5)  # noqa: E731
    assert lr(0) == 0.0
    assert lr(25_000) == pytest.approx(0.75e-4)
    assert lr(50_000) == pytest.approx(1.5e-4)
    # halfway through the decay the cosine is at the middle of max and floor
    assert lr(525_000) == pytest.approx((1.5e-4 + 1e-5) / 2)
    assert lr(1_000_000) == pytest.approx(1e-5)
    assert lr(2_000_000) == pytest.approx(1e-5)
    quarter = 50_000 + 950_000 // 4
    assert lr(quarter) == pytest.approx(1e-5 + 1.4e-4 * 0.5 * (1 + math.cos(math.pi / 4)), rel=1e-4)


def test_schedule_sets_optimizer_rates_and_restores():
    parameter = nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([parameter], lr=1.0)
    schedule = WarmupCosineSchedule(optimizer, 1.0, 2, 4, 0.0)
    rates = []
    for _ in range(5):
        rates.append(optimizer.param_groups[0]["lr"])
        schedule.step()
    assert rates == pytest.approx([0.0, 0.5, 1.0, 0.5, 0.0])
    other = WarmupCosineSchedule(optimizer, 1.0, 2, 4, 0.0)
    other.load_state_dict({"step_count": 1})
    assert optimizer.param_groups[0]["lr"] == 0.5
    with pytest.raises(ValueError):
        WarmupCosineSchedule(optimizer, 1.0, 2, 4, 2.0)


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, 4))
        self.proj = nn.Conv2d(3, 4, 2)
        self.layernorm = nn.LayerNorm(4)
        self.dense = nn.Linear(4, 4)
        self.pos = nn.Parameter(torch.zeros(1, 5, 4), requires_grad=False)


def test_no_weight_decay_on_biases_layernorm_and_tokens_and_frozen_parameters_left_out():
    model = Tiny()
    decay, no_decay = split_decay_parameters(model)
    assert decay == ["proj.weight", "dense.weight"]
    assert sorted(no_decay) == ["cls_token", "dense.bias", "layernorm.bias", "layernorm.weight", "proj.bias"]
    optimizer = build_optimizer(model, lr=1e-3)
    assert [g["weight_decay"] for g in optimizer.param_groups] == [0.05, 0.0]
    assert optimizer.defaults["betas"] == (0.9, 0.999) and optimizer.defaults["eps"] == 1e-8
    assert sum(len(g["params"]) for g in optimizer.param_groups) == 7  # pos excluded


def test_fused_adamw_by_default_on_a_cpu_with_the_same_updates():
    import copy

    import torch

    torch.manual_seed(0)
    model = Tiny()
    reference = copy.deepcopy(model)
    optimizer = build_optimizer(model, lr=1e-2)
    assert all(group["fused"] for group in optimizer.param_groups)
    expected = build_optimizer(reference, lr=1e-2, fused=False)
    for step in range(3):
        for m in (model, reference):
            for p in m.parameters():
                if p.requires_grad:
                    p.grad = torch.full_like(p, 0.1 * (step + 1)) + torch.arange(p.numel()).view_as(p) * 1e-3
        optimizer.step()
        expected.step()
    for a, b in zip(model.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-6)


def test_linear_schedule_by_hand():
    from pixel.train.schedule import build_schedule, warmup_linear_lr

    # warm-up 2 steps to 1.0, then linear to 0.1 at step 12: step 7 is half way -> 0.55
    assert warmup_linear_lr(0, 1.0, 2, 12, 0.1) == 0.0
    assert warmup_linear_lr(1, 1.0, 2, 12, 0.1) == 0.5
    assert warmup_linear_lr(2, 1.0, 2, 12, 0.1) == 1.0
    assert abs(warmup_linear_lr(7, 1.0, 2, 12, 0.1) - 0.55) < 1e-12
    assert abs(warmup_linear_lr(50, 1.0, 2, 12, 0.1) - 0.1) < 1e-12
    import pytest
    import torch

    with pytest.raises(ValueError, match="cosine or linear"):
        build_schedule("step", torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0), 1.0, 0, 10)
