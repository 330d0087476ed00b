"""Model speed: strips/s, peak memory and achieved GFLOP/s of PIXEL at pixel-base size.

Measures, for fp32 and bf16 autocast:
- encoder inference (``PIXELModel`` path of ``PIXELForPreTraining.vit``, 529 patches, no masking);
- a full pretraining step (forward with span-style masking of 133 patches + backward + AdamW);
- the same pretraining step with a straightforward eager attention (softmax(QK^T / sqrt(d) + mask) V written
  out below) swapped in for ``scaled_dot_product_attention``, and the eager/SDPA time ratio;
- the SDPA step without attention-probability dropout (``sdpa-nodrop``): pixel-base's config trains with
  attention dropout 0.1, which makes SDPA fall back to its unfused math path (attention maps stored).

FLOPs are counted analytically by the model (``flops_per_example``: matmuls and the patch-embedding
convolution; backward = 2 x forward), so GFLOP/s compares with the machine's matmul peak. Peak memory: CUDA ``max_memory_allocated``; on CPU the
process's peak resident set (VmHWM, reset after a malloc_trim before each measurement), which includes torch
itself, the model and (for the steps) the optimizer state.

Usage: ``python benchmarks/model.py --steps 2`` (CPU, pixel-base: minutes on 2 cores), ``--device cuda``,
``--size tiny`` for a smoke run.
"""

from __future__ import annotations

import os

# Before torch is imported: MKL's dynamic threading made fp32 matmuls unstable and ~2x slower on small CPU
# machines (a full fp32 step took 15.5 s with MKL_DYNAMIC=FALSE, 34 s without).
os.environ.setdefault("MKL_DYNAMIC", "FALSE")

import argparse  # noqa: E402
import contextlib  # noqa: E402
import ctypes  # noqa: E402
import gc  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from pixel.model import layers  # noqa: E402
from pixel.model.config import VARIANTS, PIXELConfig  # noqa: E402
from pixel.model.pixel import PIXELForPreTraining  # noqa: E402

TEXT_PATCHES = 400  # a realistic share of text in a pretraining strip (attention mask = text + end patch)


def eager_attention(
    query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, bias: torch.Tensor, dropout_p: float
) -> torch.Tensor:
    """The textbook attention, same math as the model's SDPA call: softmax(q k^T / sqrt(d) + bias) v.

    query/key/value ``[B, H, T, d]``; bias: additive key mask ``[B, 1, 1, T]`` (0 or -10000) -> ``[B, H, T, d]``.
    """
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1]) + bias.to(query.dtype)
    probs = torch.softmax(scores, dim=-1)
    if dropout_p > 0.0:
        probs = torch.nn.functional.dropout(probs, p=dropout_p)
    return probs @ value


@contextlib.contextmanager
def attention_implementation(function: Callable[..., torch.Tensor] | None) -> Iterator[None]:
    """Temporarily route the model's attention through ``function`` (None = leave SDPA).

    ``PIXELSelfAttention`` calls the module global ``pixel.model.layers.sdpa_attention`` at run time.
    """
    if function is None:
        yield
        return
    original = layers.sdpa_attention
    layers.sdpa_attention = function
    try:
        yield
    finally:
        layers.sdpa_attention = original


@contextlib.contextmanager
def attention_dropout_off(model: torch.nn.Module) -> Iterator[None]:
    """Temporarily set attention-probability dropout to 0 (the fused CPU/GPU SDPA kernels then apply)."""
    saved = [(module, module.dropout_prob) for module in model.modules() if hasattr(module, "dropout_prob")]
    for module, _ in saved:
        module.dropout_prob = 0.0
    try:
        yield
    finally:
        for module, value in saved:
            module.dropout_prob = value


def reset_peak_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        return
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        # Give freed heap memory back to the OS first, so that the peak starts from live memory only.
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    with contextlib.suppress(OSError):
        # "5" resets the peak resident set size (VmHWM) of this process (Linux >= 4.0).
        Path("/proc/self/clear_refs").write_text("5")


def peak_memory_mb(device: torch.device) -> float | None:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@dataclass
class Result:
    phase: str
    dtype: str
    attention: str
    seconds_per_step: float
    strips_per_second: float
    gflops_per_second: float
    peak_mb: float | None


def make_batch(batch: int, num_patches: int, device: torch.device, seed: int = 0):
    """Synthetic strips: random ink on text patches, a black end patch, white padding; 133-patch masks."""
    generator = torch.Generator().manual_seed(seed)
    width = 16 * num_patches
    text = min(TEXT_PATCHES, num_patches - 1)
    pixel_values = torch.ones(batch, 3, 16, width)
    ink = (torch.rand(batch, 1, 16, 16 * text, generator=generator) > 0.8).float()
    pixel_values[:, :, :, : 16 * text] = 1.0 - ink
    pixel_values[:, :, :, 16 * text : 16 * (text + 1)] = 0.0
    attention_mask = torch.zeros(batch, num_patches)
    attention_mask[:, : text + 1] = 1.0
    num_masked = num_patches - int(num_patches * 0.75)
    patch_mask = torch.zeros(batch, num_patches)
    for row in range(batch):
        patch_mask[row, torch.randperm(text, generator=generator)[:num_masked]] = 1.0
    return pixel_values.to(device), attention_mask.to(device), patch_mask.to(device)


def autocast(device: torch.device, dtype: str):
    if dtype == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


def time_steps(step: Callable[[], None], steps: int, warmup: int, device: torch.device) -> tuple[float, float | None]:
    for _ in range(warmup):
        step()
    synchronize(device)
    reset_peak_memory(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    synchronize(device)
    return (time.perf_counter() - start) / steps, peak_memory_mb(device)


def bench_inference(model, inputs, dtype, args, device) -> Result:
    pixel_values, attention_mask, _ = inputs
    model.eval()

    def step() -> None:
        with torch.inference_mode(), autocast(device, dtype):
            model.vit(pixel_values, attention_mask=attention_mask)

    seconds, peak = time_steps(step, args.steps, args.warmup, device)
    flops = model.vit.flops_per_example(training=False) * pixel_values.shape[0]
    return Result("encoder inference", dtype, "sdpa", seconds, pixel_values.shape[0] / seconds, flops / seconds / 1e9, peak)


def bench_pretraining(model, inputs, dtype, attention, args, device) -> Result:
    pixel_values, attention_mask, patch_mask = inputs
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)

    def step() -> None:
        with autocast(device, dtype):
            loss = model(pixel_values, attention_mask=attention_mask, patch_mask=patch_mask).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    no_dropout = attention_dropout_off(model) if attention == "sdpa-nodrop" else contextlib.nullcontext()
    with attention_implementation(eager_attention if attention == "eager" else None), no_dropout:
        seconds, peak = time_steps(step, args.steps, args.warmup, device)
    flops = model.flops_per_example() * pixel_values.shape[0]
    return Result("pretrain step", dtype, attention, seconds, pixel_values.shape[0] / seconds, flops / seconds / 1e9, peak)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3, help="timed steps per measurement")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps before each measurement")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--num-patches", type=int, default=529)
    parser.add_argument("--device", default="auto", help="cpu, cuda, or auto (cuda when present)")
    parser.add_argument("--size", choices=sorted(VARIANTS), default="base")
    parser.add_argument("--dtypes", default="fp32,bf16", help="comma-separated: fp32, bf16 (autocast)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch CPU threads")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.batch_size < 1 or args.warmup < 0:
        parser.error("--steps and --batch-size must be >= 1, --warmup >= 0")
    dtypes = [d.strip() for d in args.dtypes.split(",") if d.strip()]
    if not dtypes or any(d not in ("fp32", "bf16") for d in dtypes):
        parser.error(f"--dtypes: choose from fp32, bf16; got {args.dtypes!r}")
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device is available")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    config = PIXELConfig.variant(args.size, image_size=[16, 16 * args.num_patches])
    model = PIXELForPreTraining(config).to(device)
    inputs = make_batch(args.batch_size, args.num_patches, device)
    params = sum(p.numel() for p in model.parameters())
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or platform.machine()
    print(f"torch {torch.__version__} | device {device} ({where}) | threads {torch.get_num_threads()} | "
          f"MKL_DYNAMIC={os.environ.get('MKL_DYNAMIC')}")
    print(f"size {args.size} ({params / 1e6:.1f}M parameters) | batch {args.batch_size} | {args.num_patches} patches | "
          f"{args.steps} timed steps after {args.warmup} warm-up")
    print(f"{'phase':<18} {'dtype':<5} {'attention':<11} {'s/step':>8} {'strips/s':>9} {'GFLOP/s':>8} {'peak MB':>8}")

    results: list[Result] = []
    for dtype in dtypes:
        for attention in ("inference", "sdpa", "eager", "sdpa-nodrop"):
            if attention == "inference":
                result = bench_inference(model, inputs, dtype, args, device)
            else:
                result = bench_pretraining(model, inputs, dtype, attention, args, device)
            results.append(result)
            peak = f"{result.peak_mb:8.0f}" if result.peak_mb is not None else "       ?"
            print(f"{result.phase:<18} {result.dtype:<5} {result.attention:<11} {result.seconds_per_step:8.3f} "
                  f"{result.strips_per_second:9.2f} {result.gflops_per_second:8.1f} {peak}", flush=True)

    for dtype in dtypes:
        step = {r.attention: r for r in results if r.phase == "pretrain step" and r.dtype == dtype}
        ratio = step["eager"].seconds_per_step / step["sdpa"].seconds_per_step
        print(f"{dtype}: eager attention step takes {ratio:.2f}x the SDPA step's time")
        ratio = step["sdpa"].seconds_per_step / step["sdpa-nodrop"].seconds_per_step
        print(f"{dtype}: attention dropout {model.config.attention_probs_dropout_prob} makes the SDPA step {ratio:.2f}x "
              f"slower than without it (dropout forces SDPA's unfused math path)")
    if "fp32" in dtypes and "bf16" in dtypes:
        by = {(r.phase, r.dtype, r.attention): r for r in results}
        for phase in ("encoder inference", "pretrain step"):
            speedup = by[(phase, "fp32", "sdpa")].seconds_per_step / by[(phase, "bf16", "sdpa")].seconds_per_step
            print(f"{phase}: bf16 autocast is {speedup:.2f}x as fast as fp32")
    return 0


if __name__ == "__main__":
    sys.exit(main())
