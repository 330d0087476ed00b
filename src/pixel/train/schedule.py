"""Learning-rate schedules: linear warm-up, then half-cosine (pretraining) or linear (fine-tuning recipes, as
the original's Hugging Face trainer) down to a floor."""

from __future__ import annotations

import math


def warmup_cosine_lr(step: int, max_lr: float, warmup_steps: int, total_steps: int, min_lr: float = 0.0) -> float:
    """Learning rate at optimizer step ``step`` (0-based: the rate used for the first update is step 0).

    Warm-up: ``max_lr * step / warmup_steps`` for step < warmup_steps (0 at step 0, as the original).
    Then ``min_lr + (max_lr - min_lr) * 0.5 * (1 + cos(pi * progress))`` with
    progress = (step - warmup_steps) / (total_steps - warmup_steps), clamped to [0, 1], so the rate is
    max_lr right after warm-up and min_lr at total_steps and beyond.
    """
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    if warmup_steps > 0 and step < warmup_steps:
        return max_lr * step / warmup_steps
    decay_steps = max(1, total_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / decay_steps)
    return min_lr + (max_lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))


class WarmupCosineSchedule:
    """Sets ``lr`` of every param group of an optimizer; state is just the step (saved in trainer_state.json)."""

    def __init__(self, optimizer, max_lr: float, warmup_steps: int, total_steps: int, min_lr: float = 0.0):
        if not 0 <= min_lr <= max_lr:
            raise ValueError(f"need 0 <= min_lr <= max_lr, got min_lr={min_lr}, max_lr={max_lr}")
        if warmup_steps < 0 or total_steps <= 0:
            raise ValueError(f"need warmup_steps >= 0 and total_steps > 0, got {warmup_steps}, {total_steps}")
        self.optimizer = optimizer
        self.max_lr, self.min_lr = max_lr, min_lr
        self.warmup_steps, self.total_steps = warmup_steps, total_steps
        self.step_count = 0
        self._apply()

    def lr(self) -> float:
        return warmup_cosine_lr(self.step_count, self.max_lr, self.warmup_steps, self.total_steps, self.min_lr)

    def _apply(self) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = self.lr()

    def step(self) -> None:
        """Advance one optimizer step and set the rate for the next update."""
        self.step_count += 1
        self._apply()

    def state_dict(self) -> dict:
        return {"step_count": self.step_count}

    def load_state_dict(self, state: dict) -> None:
        self.step_count = int(state["step_count"])
        self._apply()


def warmup_linear_lr(step: int, max_lr: float, warmup_steps: int, total_steps: int, min_lr: float = 0.0) -> float:
    """As `warmup_cosine_lr`, but decaying linearly: ``max_lr - (max_lr - min_lr) * progress``."""
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    if warmup_steps > 0 and step < warmup_steps:
        return max_lr * step / warmup_steps
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return max_lr - (max_lr - min_lr) * progress


class WarmupLinearSchedule(WarmupCosineSchedule):
    """Linear warm-up, then linear decay to min_lr at total_steps (fine-tuning)."""

    def lr(self) -> float:
        return warmup_linear_lr(self.step_count, self.max_lr, self.warmup_steps, self.total_steps, self.min_lr)


def build_schedule(name: str, optimizer, max_lr: float, warmup_steps: int, total_steps: int, min_lr: float = 0.0):
    """``name``: "cosine" (pretraining) or "linear" (fine-tuning)."""
    schedules = {"cosine": WarmupCosineSchedule, "linear": WarmupLinearSchedule}
    if name not in schedules:
        raise ValueError(f"lr_schedule must be cosine or linear, got {name!r}")
    return schedules[name](optimizer, max_lr, warmup_steps, total_steps, min_lr)
