"""The one training loop of pixel-lm (pretraining and fine-tuning).

The trainer knows nothing about tasks: it runs any `Task` (pixel.pretrain.task.PretrainingTask, and
pixel.finetune.base.FinetuningTask for every fine-tuning family).
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn
from torch.utils.data import DataLoader, IterableDataset

from pixel.io import atomic_folder
from pixel.runtime import PRECISIONS, autocast, cpu_training
from pixel.train import checkpoint as ckpt
from pixel.train.distributed import (
    all_reduce_mean,
    barrier,
    gather_full_state,
    init_distributed,
    load_full_state,
    shard_model,
)
from pixel.train.metrics import MetricsLogger, device_peak_flops
from pixel.train.optim import build_optimizer
from pixel.train.schedule import build_schedule


class Task(Protocol):
    """What the trainer needs from a task.

    ``model``: an nn.Module whose ``forward(**model_inputs(batch, device))`` returns an object with ``.loss``,
    and whose ``flops_per_example()`` (FLOPs of one training example, forward + backward) gives the MFU.
    Batches are `pixel.render.batch.collate` dicts: their ``attention_mask`` [B, L] counts examples and
    patches for the throughput.
    """

    model: nn.Module

    def train_dataset(self, rank: int, world_size: int, start_batch: int) -> IterableDataset:
        """Ready micro-batches of this rank, endless, starting at micro-batch ``start_batch`` of the job."""
        ...

    def eval_batches(self) -> Iterable[dict[str, Any]] | None:
        """Validation batches whose mean loss is ``val_loss`` (None: no validation loss)."""
        ...

    def model_inputs(self, batch: dict[str, Any], device: torch.device) -> dict[str, torch.Tensor]:
        """A batch as keyword arguments of the model on ``device`` (uint8 images become float there)."""
        ...

    def validation_metrics(self, model: nn.Module, device: torch.device) -> dict[str, float] | None:
        """Task metrics on validation data (model in eval mode, no grad) at each evaluation, or None.
        ``metric_for_best_model`` names one of them (see `TrainerConfig`)."""
        ...

    def save_extras(self, folder: Path, model: nn.Module, history: dict[str, list]) -> None:
        """What a saved folder needs besides the weights (renderer, pictures...); rank 0, at each save."""
        ...


def count(batch: dict[str, Any]) -> tuple[int, int]:
    """(examples, attended patches) of a batch, for the throughput."""
    return len(batch["attention_mask"]), int(batch["attention_mask"].sum())


@dataclass
class TrainerConfig:
    """Settings of the training loop. batch_size is per device and micro-step: the global batch is
    batch_size * grad_accum_steps * world_size. metric_for_best_model: a key of the task's validation
    metrics whose best value so far is kept as output_dir/best (greater_is_better: which way is better, see
    `metric_greater_is_better`); early_stopping_patience evaluations without a better value end the run."""

    output_dir: str = "runs/pixel"
    max_steps: int = 1000
    batch_size: int = 8
    grad_accum_steps: int = 1
    learning_rate: float = 1.5e-4
    min_lr: float = 1e-5
    warmup_steps: int = 50
    weight_decay: float = 0.05
    adam_betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    adam_eps: float = 1e-8
    max_grad_norm: float = 1.0
    precision: str = "fp32"
    compile: bool = False
    num_workers: int = 0
    seed: int = 42
    log_every: int = 10
    eval_every: int = 0
    save_every: int = 500
    keep_last: int = 3
    device: str = "auto"
    distributed: str = "ddp"
    peak_tflops: float | None = None
    progress: bool = True
    tensorboard: bool = True
    lr_schedule: str = "cosine"
    metric_for_best_model: str | None = None
    greater_is_better: bool | None = None
    early_stopping_patience: int = 0

    def validate(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be fp32, bf16 or fp16, got {self.precision!r}")
        if self.distributed not in ("ddp", "fsdp"):
            raise ValueError(f"distributed must be ddp or fsdp, got {self.distributed!r}")
        for name in ("max_steps", "batch_size", "grad_accum_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.num_workers < 0 or self.warmup_steps < 0:
            raise ValueError("num_workers and warmup_steps must be >= 0")
        if self.lr_schedule not in ("cosine", "linear"):
            raise ValueError(f"lr_schedule must be cosine or linear, got {self.lr_schedule!r}")
        if self.early_stopping_patience < 0:
            raise ValueError(f"early_stopping_patience must be >= 0 (0 = off), got {self.early_stopping_patience}")
        if self.early_stopping_patience and not self.metric_for_best_model:
            raise ValueError("early_stopping_patience needs metric_for_best_model (the validation metric to watch)")

    def metric_greater_is_better(self) -> bool:
        """Whether a larger metric_for_best_model is better: ``greater_is_better``, or when that is unset,
        false for a loss (a metric whose name holds "loss") and true for any other metric."""
        if self.greater_is_better is not None:
            return self.greater_is_better
        return "loss" not in (self.metric_for_best_model or "")


class Trainer:
    def __init__(self, task: Task, config: TrainerConfig):
        config.validate()
        self.task, self.config = task, config
        self.context, self.device = init_distributed(config.device)
        # Dropout differs per rank; resume() replaces this state with the saved one.
        torch.manual_seed(config.seed + self.context.rank)
        self.output_dir = Path(config.output_dir)
        self.sharded = config.distributed == "fsdp" and self.context.enabled
        # FSDP: rank 0's unsharded CPU copy of the model, which checkpoints are written from
        self._export_model = copy.deepcopy(task.model).cpu() if self.sharded and self.context.is_main else None
        self.model: nn.Module = task.model.to(self.device)
        if self.sharded:
            shard_model(self.model, self.device, self.context)  # before the optimizer: parameters are replaced
        self.optimizer = build_optimizer(self.model, config.learning_rate, config.weight_decay, config.adam_betas,
                                         config.adam_eps)
        self.scheduler = build_schedule(config.lr_schedule, self.optimizer, config.learning_rate,
                                        config.warmup_steps, config.max_steps, config.min_lr)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=config.precision == "fp16")
        self.step = 0
        self.examples_consumed = 0
        self.history: dict[str, list] = {"steps": [], "loss": [], "val_steps": [], "val_loss": []}
        self.metrics = MetricsLogger(self.output_dir, self.context.is_main, config.tensorboard)

    # ------------------------------------------------------------------------------------------ set-up

    @property
    def global_micro_batch(self) -> int:
        return self.config.batch_size * self.context.world_size

    def resume(self, checkpoint: str | Path) -> None:
        """Restore model, optimizer, scheduler, scaler, RNG and data position from a checkpoint folder."""
        checkpoint = Path(checkpoint)
        state = ckpt.read_trainer_state(checkpoint)
        try:
            step, examples = int(state["step"]), int(state["examples_consumed"])
            scheduler_state, rng_json = state["scheduler"], state["rng"]
        except (KeyError, TypeError, ValueError) as err:
            raise ckpt.CheckpointError(f"corrupt checkpoint file {checkpoint / ckpt.TRAINER_STATE}: "
                                       f"bad or missing entry {err}") from None
        if examples % self.global_micro_batch:
            raise ckpt.CheckpointError(
                f"{checkpoint}: {examples} examples were consumed, not a multiple of this run's batch_size x "
                f"world_size = {self.global_micro_batch}; resume with the batch size of the original run")
        if self.sharded:
            load_full_state(self.model, self.optimizer, ckpt.read_model_weights(self.model, checkpoint),
                            ckpt.read_optimizer_state(self.model, self.optimizer, checkpoint))
        else:
            ckpt.load_model_weights(self.model, checkpoint)
            ckpt.load_optimizer_state(self.model, self.optimizer, checkpoint)
        self.scheduler.load_state_dict(scheduler_state)
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        rng = ckpt.load_rng_state(checkpoint, self.context.rank)
        if rng is not None:
            ckpt.restore_rng_state(rng, rng_json)
        self.step, self.examples_consumed = step, examples
        self.history = state.get("history", self.history)
        self.metrics.truncate_after(step)

    def _wrap_model(self) -> nn.Module:
        model = self.model
        if self.context.enabled and not self.sharded:
            from torch.nn.parallel import DistributedDataParallel

            model = DistributedDataParallel(model, device_ids=[self.device.index] if self.device.type == "cuda" else None)
        if self.config.compile:
            model = torch.compile(model)
        return model

    def _autocast(self):
        return autocast(self.device, self.config.precision)

    def _loader(self) -> DataLoader:
        dataset = self.task.train_dataset(self.context.rank, self.context.world_size,
                                          self.examples_consumed // self.global_micro_batch)
        workers = self.config.num_workers
        # Own generator: creating the loader must not draw from the global RNG (resume would then differ).
        generator = torch.Generator().manual_seed(self.config.seed)
        return DataLoader(dataset, batch_size=None, num_workers=workers, pin_memory=self.device.type == "cuda",
                          prefetch_factor=4 if workers else None, generator=generator)

    # ------------------------------------------------------------------------------------------ loop

    def train(self) -> dict[str, Any]:
        """Run until max_steps; returns the last logged metrics. On a CPU with `pixel.runtime.cpu_training`'s
        threads and allocator setting."""
        with cpu_training(self.config.num_workers) if self.device.type == "cpu" else contextlib.nullcontext():
            return self._train()

    def _train(self) -> dict[str, Any]:
        config, context = self.config, self.context
        model = self._wrap_model()
        model.train()
        batches = iter(self._loader())
        peak = device_peak_flops(self.device, config.peak_tflops)
        flops_per_example = self.task.model.flops_per_example()
        progress = _progress_bar(config.max_steps, self.step, enabled=config.progress and context.is_main)
        window = _Window()
        last: dict[str, Any] = {}
        stop_early = False
        while self.step < config.max_steps and not stop_early:
            loss_sum = 0.0
            for micro in range(config.grad_accum_steps):
                started = time.perf_counter()
                batch = next(batches)
                window.data_wait += time.perf_counter() - started
                examples, patches = count(batch)
                window.examples += examples
                window.patches += patches
                inputs = self.task.model_inputs(batch, self.device)
                last_micro = micro == config.grad_accum_steps - 1
                sync = model.no_sync() if context.enabled and not last_micro and hasattr(model, "no_sync") \
                    else contextlib.nullcontext()
                with sync:
                    with self._autocast():
                        loss = model(**inputs).loss / config.grad_accum_steps
                    self.scaler.scale(loss).backward()
                loss_sum += loss.item()
            self.scaler.unscale_(self.optimizer)
            grad_norm = _clip(model, config.max_grad_norm)
            lr = self.scheduler.lr()
            self.scaler.step(self.optimizer)
            self.scaler.update()
            self.optimizer.zero_grad(set_to_none=True)
            self.scheduler.step()
            self.step += 1
            self.examples_consumed += config.grad_accum_steps * self.global_micro_batch
            loss_value, grad_value = all_reduce_mean([loss_sum, grad_norm], context, self.device)
            if not math.isfinite(loss_value) and config.precision != "fp16":
                raise RuntimeError(f"loss became {loss_value} at step {self.step}; lower the learning rate or "
                                   "check the data (try precision fp32)")
            self.history["steps"].append(self.step)
            self.history["loss"].append(loss_value)
            window.steps += 1
            progress.update(1)
            progress.set_postfix(loss=f"{loss_value:.4f}", lr=f"{lr:.2e}")
            is_last = self.step == config.max_steps
            if self.step % config.log_every == 0 or is_last:
                last = self._log(window, loss_value, lr, grad_value, flops_per_example, peak)
                window = _Window()
            if (config.eval_every and self.step % config.eval_every == 0) or is_last:
                val_loss = self.evaluate(model)
                if val_loss is not None:
                    last["val_loss"] = val_loss
                stop_early = self._track_validation_metrics(model, last)
            if (config.save_every and self.step % config.save_every == 0) or is_last or stop_early:
                self.save()
        progress.close()
        self.metrics.close()
        return last

    def _log(self, window: _Window, loss: float, lr: float, grad_norm: float, flops_per_example, peak) -> dict:
        seconds = max(time.perf_counter() - window.started, 1e-9)
        examples, patches = all_reduce_mean([window.examples, window.patches], self.context, self.device)
        scale = self.context.world_size
        record = {"step": self.step, "loss": loss, "lr": lr, "grad_norm": grad_norm,
                  "strips_per_s": examples * scale / seconds, "patches_per_s": patches * scale / seconds,
                  "data_wait_share": window.data_wait / seconds, "examples_consumed": self.examples_consumed}
        if flops_per_example and peak:
            record["mfu"] = flops_per_example * examples / seconds / peak
        self.metrics.log(record)
        return record

    @torch.no_grad()
    def evaluate(self, model: nn.Module | None = None) -> float | None:
        """Mean loss over the task's validation batches (all ranks compute it; rank 0 logs it)."""
        batches = self.task.eval_batches()
        if batches is None:
            return None
        model = model or self.model
        was_training = model.training
        model.eval()
        total, weight = 0.0, 0
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            # Random draws inside the model (e.g. the patches that fill the mask quota) are the same at every
            # evaluation, so validation losses of different steps compare like with like.
            torch.manual_seed(self.config.seed)
            for batch in batches:
                with self._autocast():
                    loss = model(**self.task.model_inputs(batch, self.device)).loss
                examples, _ = count(batch)
                total += loss.item() * examples
                weight += examples
        model.train(was_training)
        if weight == 0:
            return None
        value = total / weight
        self.history["val_steps"].append(self.step)
        self.history["val_loss"].append(value)
        self.metrics.log({"step": self.step, "val_loss": value})
        return value

    def _track_validation_metrics(self, model: nn.Module, last: dict[str, Any]) -> bool:
        """Task metrics -> log and history; the best model so far in output_dir/best. Returns True when early
        stopping ends the run."""
        metrics = self._validation_metrics(model)
        if not metrics:
            return False
        self._record_metrics(metrics, last)
        name = self.config.metric_for_best_model
        if not name:
            return False
        if name not in metrics:
            from pixel.train.config import unknown_key_error

            raise unknown_key_error(name, list(metrics), "metric_for_best_model (the task's metrics)")
        values = [record[name] for record in self.history["val_metrics"]]
        best_index = best_position(values, self.config.metric_greater_is_better())
        if best_index == len(values) - 1:
            self._save_best(name, values[-1])
        patience = self.config.early_stopping_patience
        return bool(patience) and len(values) - 1 - best_index >= patience

    def _validation_metrics(self, model: nn.Module) -> dict[str, float] | None:
        was_training = model.training
        model.eval()
        with torch.no_grad(), torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            with self._autocast():
                metrics = self.task.validation_metrics(self.model, self.device)
        model.train(was_training)
        return metrics

    def _record_metrics(self, metrics: dict[str, float], last: dict[str, Any]) -> None:
        """Into the metrics log, the returned record ``last`` (as val_*) and the history."""
        self.metrics.log({"step": self.step, **{f"val_{k}": v for k, v in metrics.items()}})
        last.update({f"val_{k}": v for k, v in metrics.items()})
        self.history.setdefault("val_metrics", []).append({"step": self.step, **metrics})

    def _save_best(self, name: str, value: float) -> None:
        """The current model as output_dir/best (a complete model folder; every rank takes part under FSDP)."""
        self.history["best"] = {"step": self.step, name: value}
        model, _ = self._full_state()
        if self.context.is_main:
            save_model_folder(self.output_dir / "best", model,
                              lambda path: self.task.save_extras(path, model, self.history))

    def save(self) -> Path | None:
        """Checkpoint of the current step (rank 0 writes; every rank contributes its RNG state)."""
        rng_tensors, rng_json = ckpt.capture_rng_state()
        rng_all = [rng_tensors]
        if self.context.enabled:
            import torch.distributed as dist

            rng_all = [None] * self.context.world_size
            dist.all_gather_object(rng_all, rng_tensors)
        model, optimizer_state = self._full_state()
        folder = None
        if self.context.is_main:
            state = {"step": self.step, "examples_consumed": self.examples_consumed,
                     "scheduler": self.scheduler.state_dict(),
                     "scaler": self.scaler.state_dict() if self.scaler.is_enabled() else None,
                     "rng": rng_json, "history": self.history, "world_size": self.context.world_size,
                     "trainer_config": asdict(self.config)}
            folder = ckpt.save_checkpoint(
                self.output_dir, self.step, model, optimizer_state, state, rng_all,
                save_extras=lambda path: self.task.save_extras(path, model, self.history),
                keep_last=self.config.keep_last)
        barrier(self.context)
        return folder

    def _full_state(self) -> tuple[nn.Module, dict[str, Any]]:
        """(unsharded model, optimizer state by parameter name) for rank 0 to write. Under FSDP this gathers the
        shards (every rank must call it) into rank 0's CPU copy of the model."""
        if not self.sharded:
            return self.model, ckpt.full_optimizer_state(self.model, self.optimizer)
        model_state, optimizer_state = gather_full_state(self.model, self.optimizer)
        if self._export_model is not None:
            self._export_model.load_state_dict(model_state, strict=True)
        return self._export_model, optimizer_state


@dataclass
class _Window:
    started: float = field(default_factory=time.perf_counter)
    steps: int = 0
    examples: int = 0
    patches: int = 0
    data_wait: float = 0.0


def save_model_folder(folder: Path, model: nn.Module, save_extras=None) -> Path:
    """Model weights + extras (renderer ...) written as one atomic folder (``pixel.io.atomic_folder``)."""
    with atomic_folder(folder) as temporary:
        ckpt.save_model_weights(model, temporary)
        if save_extras is not None:
            save_extras(temporary)
    return folder


def best_position(values: list[float], greater_is_better: bool) -> int:
    """Index of the best of ``values`` (the first one on a tie)."""
    best = max(values) if greater_is_better else min(values)
    return values.index(best)


def _clip(model: nn.Module, max_norm: float) -> float:
    """Clip to a global gradient norm of ``max_norm`` (0 = no clipping); returns the norm before clipping."""
    from torch.distributed.tensor import DTensor

    params = [p for p in model.parameters() if p.grad is not None]
    norm = torch.nn.utils.get_total_norm([p.grad for p in params])
    if isinstance(norm, DTensor):  # FSDP: the norm over the shards of all ranks, as one plain tensor
        norm = norm.full_tensor()
    torch.nn.utils.clip_grads_with_norm_(params, max_norm if max_norm > 0 else float("inf"), norm)
    return float(norm)


def _progress_bar(total: int, initial: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, disable=not enabled, desc="train", unit="step", dynamic_ncols=True)
