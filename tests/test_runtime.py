"""pixel.runtime: which precision runs where, and the CPU process settings of training."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from pixel import runtime


def test_cpuinfo_flags_decide_native_bf16() -> None:
    assert runtime.cpuinfo_has_native_bf16("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16 sha_ni\n")
    assert runtime.cpuinfo_has_native_bf16("flags : fpu amx_bf16 amx_tile\n")
    assert not runtime.cpuinfo_has_native_bf16("flags : fpu avx2 avx512f avx512bw\n")  # AVX-512 without BF16
    assert not runtime.cpuinfo_has_native_bf16("model name : avx512_bf16 in the name only\n")


@pytest.mark.skipif(not Path("/proc/cpuinfo").is_file(), reason="needs Linux /proc/cpuinfo")
def test_native_bf16_of_this_cpu_follows_its_flags() -> None:
    flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags"))
    assert runtime.native_bf16("cpu") == bool({"avx512_bf16", "amx_bf16"} & set(flags.split()))
    assert runtime.native_bf16(torch.device("meta")) is False


def test_inference_precision_auto_is_bf16_exactly_where_it_is_native(monkeypatch) -> None:
    for native in (True, False):
        monkeypatch.setattr(runtime, "native_bf16", lambda device, native=native: native)
        assert runtime.inference_precision("cpu", "auto") == ("bf16" if native else "fp32")
        assert runtime.inference_precision("cpu", "fp32") == "fp32"
        assert runtime.inference_precision("cpu", "bf16") == "bf16"
    with pytest.raises(ValueError, match="auto, fp32, bf16"):
        runtime.inference_precision("cpu", "half")


def test_autocast_contexts() -> None:
    x = torch.randn(3, 4)
    layer = torch.nn.Linear(4, 2)
    with runtime.autocast("cpu", "fp32"):
        assert layer(x).dtype == torch.float32
    with runtime.autocast("cpu", "bf16"):
        assert layer(x).dtype == torch.bfloat16
    with pytest.raises(ValueError, match="precision"):
        runtime.autocast("cpu", "int8")


def test_cpu_threads_leave_a_core_per_data_worker(monkeypatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    monkeypatch.delenv("LOCAL_WORLD_SIZE", raising=False)
    assert runtime.cpu_threads(0) == 8
    assert runtime.cpu_threads(2) == 6
    assert runtime.cpu_threads(20) == 1
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")  # two training processes on these cores
    assert runtime.cpu_threads(1) == 3


def test_cpu_training_sets_and_restores_threads(monkeypatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(runtime, "cpu_threads", lambda workers: 1)
    before = torch.get_num_threads()
    with runtime.cpu_training(1) as threads:
        assert threads == torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    monkeypatch.setenv("OMP_NUM_THREADS", str(before))  # the user's choice wins
    with runtime.cpu_training(1) as threads:
        assert threads == before


def test_keep_freed_memory_applies_on_glibc() -> None:
    assert runtime.keep_freed_memory() is (os.uname().sysname == "Linux")
