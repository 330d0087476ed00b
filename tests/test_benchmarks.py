"""The benchmark scripts run end to end at tiny size (their figures are for people, not for asserts)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def run(script: str, *arguments: str) -> str:
    done = subprocess.run([sys.executable, str(BENCHMARKS / script), *arguments], capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.slow
def test_gpu_benchmark_smoke_runs_the_real_pipeline_on_a_cpu() -> None:
    # torch.compile is left out here (minutes on 2 cores); `--smoke` alone compiles as on a GPU
    out = run("gpu.py", "--smoke", "--no-compile")
    assert "bf16 | fused AdamW | eager" in out
    strips, wait, peak = re.search(r"strips/s ([\d.]+) .* data wait ([\d.]+) % \| peak memory (\d+) MB", out).groups()
    assert float(strips) > 0 and 0 <= float(wait) <= 100 and int(peak) > 0


@pytest.mark.slow
def test_model_benchmark_prints_every_ratio_at_tiny_size() -> None:
    out = run("model.py", "--size", "tiny", "--num-patches", "32", "--batch-size", "2", "--rounds", "1", "--steps",
              "1", "--warmup", "1", "--peak-size", "256", "--dtypes", "bf16", "--threads", "1")
    assert "measured peak: fp32" in out and "original / chosen" in out
    assert re.search(r"pretrain step +bf16 +pixel-lm .* [\d.]+x >= 2.0x (met|MISSED)", out)
    assert re.search(r"encoder inference bf16 +pixel-lm .* [\d.]+x >= 2.5x (met|MISSED)", out)
    assert out.count("peak memory pixel-lm / yardstick") == 2


@pytest.mark.slow
def test_render_benchmark_prints_the_three_targets_of_the_same_run() -> None:
    out = run("render.py", "--smoke", "--renderers", "pangocairo", "--renderings", "continuous")
    for name in ("sentence / the original's steps", "pair / the original's steps", "render_batch / the plain call"):
        assert re.search(re.escape(name) + r" +[\d.]+x >= [\d.]+x (met|MISSED)", out), out
