"""How pixel runs computations on this machine: the precision of inference and training, and the process
settings that make CPU runs fast. Nothing here runs at import; commands and the trainer call it (torch is
imported on first use, so that `pixel --help` stays fast).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

PRECISIONS = ("fp32", "bf16", "fp16")
# The choice of the inference commands (--precision): auto = bf16 where the hardware computes it natively.
INFERENCE_PRECISIONS = ("auto", "fp32", "bf16")
_CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def native_bf16(device: torch.device | str) -> bool:
    """Whether ``device`` computes bf16 natively: a CUDA GPU that supports it, or a CPU with AVX-512 BF16 or AMX
    (where bf16 matmuls run ~2-4x faster than fp32; without them bf16 is emulated and slower)."""
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return _cpu_has_native_bf16()
    return False


@functools.cache
def _cpu_has_native_bf16() -> bool:
    import torch

    checks = (getattr(torch.cpu, "_is_avx512_bf16_supported", None), getattr(torch.cpu, "_is_amx_tile_supported", None))
    if any(check is not None and check() for check in checks):
        return True
    with contextlib.suppress(OSError):
        return cpuinfo_has_native_bf16(Path("/proc/cpuinfo").read_text())
    return False


def cpuinfo_has_native_bf16(cpuinfo: str) -> bool:
    """Whether the ``flags`` of a /proc/cpuinfo text name AVX-512 BF16 or AMX-BF16."""
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return any(flag in line.split(":", 1)[-1].split() for flag in _CPU_BF16_FLAGS)
    return False


def check_inference_precision(precision: str) -> None:
    """A clear error for a ``precision`` that is none of `INFERENCE_PRECISIONS` (before anything is loaded)."""
    if precision not in INFERENCE_PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(INFERENCE_PRECISIONS)}, got {precision!r}")


def inference_precision(device: torch.device | str, precision: str) -> str:
    """The precision an inference command runs in: ``auto`` -> bf16 where `native_bf16`, else fp32.

    On this repo's AVX-512 BF16 CPU, end to end (render + encoder, benchmarks/model.py e2e, docs/speed.md)
    bf16 ran 1.55x faster than fp32 at pixel-tiny's width 192 and 2.0x at pixel-base's."""
    check_inference_precision(precision)
    if precision == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    return precision


def autocast(device: torch.device | str, precision: str) -> contextlib.AbstractContextManager:
    """The context that runs a forward pass in ``precision`` (fp32: as is; bf16 / fp16: autocast)."""
    import torch

    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(torch.device(device).type, dtype=dtype)


def inference_autocast(device: torch.device | str, precision: str) -> contextlib.AbstractContextManager:
    """`autocast` in the `inference_precision` of an inference command's ``--precision``."""
    return autocast(device, inference_precision(device, precision))


# glibc mallopt parameters
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def keep_freed_memory() -> bool:
    """Let glibc's malloc reuse freed memory for large tensors instead of returning it to the OS.

    By default an allocation above a threshold that grows to at most 32 MB (a layer's activations, the attention
    maps of pixel-base) is a fresh mapping whose pages the kernel must fault in and zero on first touch: on a CPU
    that took longer than the arithmetic of many element-wise ops (a copy of 60 MB: 40 ms instead of 8). With
    this setting freed blocks stay in the heap for the next step. Returns whether it applied (glibc only).
    Process-wide, so the commands and the trainer call it, never the library on import.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    # 1 GB, above any single tensor of a pixel-base step; glibc versions that cap the threshold take 32 MB.
    # Setting it stops glibc's dynamic thresholds, so the trim threshold (a C int, default 128 kB: the heap
    # would shrink and fault its pages in again after nearly every free) is raised too.
    if not (libc.mallopt(_M_MMAP_THRESHOLD, 1 << 30) or libc.mallopt(_M_MMAP_THRESHOLD, 32 << 20)):
        return False
    return bool(libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30))


def cpu_threads(data_workers: int) -> int:
    """torch threads for a CPU training process: its share of the cores it may run on (``LOCAL_WORLD_SIZE``
    processes share them), less one core per DataLoader worker, at least 1.

    torch's default (every core) beside rendering workers oversubscribes the cores, and OpenMP threads then
    wait at every barrier for a preempted sibling: on 2 cores, the tiny recipe with 1 worker ran at 6 strips/s
    with 2 threads and at 35 with 1 (benchmarks/pretrain.py).
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    processes = max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    return max(1, cores // processes - data_workers)


@contextlib.contextmanager
def cpu_training(data_workers: int) -> Iterator[int]:
    """Process settings for a training loop on a CPU, restored afterwards: `keep_freed_memory` and
    `cpu_threads` (unless OMP_NUM_THREADS chose the threads). Yields the number of torch threads."""
    import torch

    keep_freed_memory()
    saved = torch.get_num_threads()
    threads = saved if "OMP_NUM_THREADS" in os.environ else cpu_threads(data_workers)
    torch.set_num_threads(threads)
    try:
        yield threads
    finally:
        torch.set_num_threads(saved)
