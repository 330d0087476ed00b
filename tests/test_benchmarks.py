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
    out = run("model.py", "--smoke")
    assert "measured peak: fp32" in out and "original / chosen" in out
    for phase, dtype, goal in (("pretrain step", "fp32", "2.0"), ("pretrain step", "bf16", "2.0"),
                               ("encoder inference", "fp32", "1.4"), ("encoder inference", "bf16", "2.5")):
        assert re.search(phase + " +" + dtype + r" +pixel-lm .* [\d.]+%.* [\d.]+x >= " + goal + "x (met|MISSED)", out)
    assert out.count("peak memory pixel-lm / yardstick") == 4
    assert re.search(r"pixel-tiny +32 +8 bf16 +[\d.]+ +\d+% +[\d.]+", out)  # the end-to-end row


@pytest.mark.slow
def test_render_benchmark_prints_the_three_targets_of_the_same_run() -> None:
    out = run("render.py", "--smoke", "--renderers", "pangocairo", "--renderings", "continuous")
    for name in ("sentence / the original's steps", "pair / the original's steps", "render_batch / the plain call"):
        assert re.search(re.escape(name) + r" +[\d.]+x >= [\d.]+x (met|MISSED)", out), out


@pytest.mark.slow
def test_precision_curves_draw_both_runs(tmp_path) -> None:
    out = run("precision_curves.py", "--smoke", "--output", str(tmp_path / "curves.png"))
    assert "fp32: training loss" in out and "bf16: training loss" in out and "gap / noise" in out
    assert (tmp_path / "curves.png").stat().st_size > 1000
