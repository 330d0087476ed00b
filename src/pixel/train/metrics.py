"""Training metrics: metrics.jsonl (one JSON object per line), TensorBoard when installed, FLOP utilisation."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import torch

from pixel.io import write_text

METRICS_FILE = "metrics.jsonl"

# Dense bf16/fp16 tensor-core peaks (TFLOP/s) of common accelerators, for MFU when peak_tflops is not given.
_PEAK_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "A10G": 125.0, "L4": 121.0,
                "V100": 125.0, "T4": 65.0, "RTX 4090": 165.0, "RTX 3090": 71.0}


def device_peak_flops(device: torch.device, peak_tflops: float | None = None) -> float | None:
    """Peak FLOP/s for MFU: ``peak_tflops`` if given, else looked up from the CUDA device name; None if unknown."""
    if peak_tflops:
        return peak_tflops * 1e12
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        for key, value in _PEAK_TFLOPS.items():
            if key in name:
                return value * 1e12
    return None


class MetricsLogger:
    """Appends records to ``<output_dir>/metrics.jsonl`` (and TensorBoard if importable). Inactive off rank 0."""

    def __init__(self, output_dir: str | os.PathLike, active: bool = True, tensorboard: bool = True):
        self.path = Path(output_dir) / METRICS_FILE
        self.active = active
        self.writer = None
        if active:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if tensorboard:
                try:
                    from torch.utils.tensorboard import SummaryWriter

                    self.writer = SummaryWriter(str(Path(output_dir) / "tensorboard"))
                except ImportError:
                    self.writer = None

    def log(self, record: dict[str, Any]) -> None:
        if not self.active:
            return
        clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in record.items()}
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(clean, sort_keys=True) + "\n")
        if self.writer is not None:
            step = record.get("step", 0)
            for key, value in record.items():
                if key != "step" and isinstance(value, int | float) and value is not None:
                    self.writer.add_scalar(key, value, step)
            self.writer.flush()

    def truncate_after(self, step: int) -> None:
        """Drop records of steps after ``step`` (written by a run that died after its last checkpoint)."""
        if not self.active or not self.path.is_file():
            return
        kept = [line for line in self.path.read_text(encoding="utf-8").splitlines()
                if line.strip() and json.loads(line).get("step", 0) <= step]
        write_text(self.path, "".join(line + "\n" for line in kept))

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def read_metrics(output_dir: str | os.PathLike) -> list[dict[str, Any]]:
    path = Path(output_dir) / METRICS_FILE
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
