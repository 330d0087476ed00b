"""Model speed of pixel-lm against a same-run yardstick of the original's computation, at pixel-base size.

1. peak: the machine's measured matmul peak (a large square matmul, fp32 through MKL and oneDNN, bf16), and
   the GFLOP/s of pixel-base's linear-layer shapes (forward and both backward matmuls) through MKL and oneDNN.
2. attention: one attention layer, forward + backward with dropout 0.1 at pixel-base's encoder and decoder
   shapes, through the original's eager code, torch's SDPA (its unfused path, since dropout > 0) and
   pixel-lm's `dropout_attention`; the kernel `pixel.model.kernels.attention` picks.
3. model: a pretraining step (forward with 133 of 529 patches masked, backward, AdamW; hidden and attention
   dropout 0.1 as the pixel-base recipe) and encoder inference (eval mode, 529 patches), fp32 and bf16 autocast,
   each in a fresh process:
   - ``yardstick``: the original's computation: attention as transformers 4.17's ViT self-attention (matmul,
     / sqrt(d), + the fp32 mask, softmax, dropout, matmul), nn.Linear through torch's default (MKL) kernel,
     glibc's default allocator, torch's AdamW;
   - ``pixel-lm``: the library as `pixel pretrain` and the inference commands run it (kernel choice per call,
     oneDNN fp32 linear layers, `pixel.runtime.keep_freed_memory`, the trainer's optimizer).
   Variants are interleaved round by round; each figure is a median over rounds, each ratio the median of the
   rounds' ratios. Targets: pretraining step >= 2x the yardstick in fp32 and in bf16, encoder inference fp32
   >= 1.4x, bf16 >= 2.5x, peak memory no higher than the yardstick's.

4. end-to-end (``e2e``): strips/s of inference as `pixel embed` / `pixel predict --file` run it (rendering,
   batching, the encoder, pooling: `pixel.embedding.embed` over `pixel.finetune.base.Inference`) for
   pixel-tiny (models/pixel-tiny or random weights of its size, 128-patch strips) and pixel-base size (random
   weights, --num-patches strips), fp32 and bf16, rendering in the main process and in 1 DataLoader worker
   (benchmarks/embed.py's measurement).

FLOPs are the model's own count (``flops_per_example``: every matmul, backward = 2 x forward); MFU divides the
achieved rate by the measured peak of the same precision (section 1). Peak memory: CUDA
``max_memory_allocated``; on CPU the process's peak resident set (VmHWM, reset after a malloc_trim before the
timed steps), which includes torch itself, the model and (for the steps) the optimizer state.

Usage: ``python benchmarks/model.py`` (CPU, pixel-base, batch 8: ~20 minutes on 2 busy cores), ``--rounds 1
--steps 1`` for a quick look, ``--sections peak,attention``, ``--dtypes bf16``, ``--device cuda``; ``--smoke``
runs every section at a tiny size in seconds (tested).
"""

from __future__ import annotations

import os

# Before torch is imported: MKL's dynamic threading made fp32 matmuls unstable and ~2x slower on small CPU
# machines (a full fp32 step took 15.5 s with MKL_DYNAMIC=FALSE, 34 s without); `pixel` sets it too.
os.environ.setdefault("MKL_DYNAMIC", "FALSE")

import argparse  # noqa: E402
import contextlib  # noqa: E402
import ctypes  # noqa: E402
import functools  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/embed.py for the end-to-end section

from pixel import runtime  # noqa: E402
from pixel.model import kernels, layers  # noqa: E402
from pixel.model.config import VARIANTS, PIXELConfig  # noqa: E402
from pixel.model.embeddings import num_kept  # noqa: E402
from pixel.model.pixel import PIXELForPreTraining  # noqa: E402
from pixel.train.optim import build_optimizer  # noqa: E402

TEXT_PATCHES = 400  # a realistic share of text in a pretraining strip (attention mask = text + end patch)
DROPOUT = 0.1  # hidden and attention dropout of the original pixel-base recipe
VARIANT_NAMES = ("yardstick", "pixel-lm")
MEMORY_TOLERANCE = 0.01  # CPU peak resident sets of identical runs differ by a few MB
TARGETS = {("pretrain step", "fp32"): 2.0, ("pretrain step", "bf16"): 2.0,
           ("encoder inference", "fp32"): 1.4, ("encoder inference", "bf16"): 2.5}


def original_attention(
    query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, bias: torch.Tensor, dropout_p: float
) -> torch.Tensor:
    """transformers 4.17 ViTSelfAttention: q, k, v [B, H, T, d] -> [B, H, T, d]. Its extended attention mask is
    cast to the parameters' dtype (fp32), so under bf16 autocast the scores become fp32 when it is added."""
    scores = torch.matmul(query, key.transpose(-1, -2))
    scores = scores / math.sqrt(query.shape[-1])
    scores = scores + bias.float()
    probs = F.softmax(scores, dim=-1)
    probs = F.dropout(probs, p=dropout_p, training=dropout_p > 0)
    return torch.matmul(probs, value)


@contextlib.contextmanager
def original_computation() -> Iterator[None]:
    """Route the model's attention through `original_attention` and its linear layers through ``F.linear``."""
    saved = layers.attention, kernels.linear
    layers.attention, kernels.linear = original_attention, F.linear
    try:
        yield
    finally:
        layers.attention, kernels.linear = saved


# ------------------------------------------------------------------------------------------------- measuring


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def seconds_of(function: Callable[[], object], repeats: int, device: torch.device) -> float:
    """Median wall time of ``repeats`` calls after one untimed call."""
    function()
    times = []
    for _ in range(repeats):
        synchronize(device)
        started = time.perf_counter()
        function()
        synchronize(device)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


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


# ------------------------------------------------------------------------------------------- 1. peak, GEMMs


def onednn_mm(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """a [m, k] @ b [k, n] through oneDNN (as pixel's fp32 linear layers on a CPU)."""
    return torch.ops.mkldnn._linear_pointwise(a, b.t().contiguous(), None, "none", [], "")


def peak_section(args, device: torch.device, shapes: bool = True) -> dict[str, float]:
    """Measured matmul peak per precision (GFLOP/s) and the linear-layer GEMM rates of pixel-base."""
    size = args.peak_size
    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
    flops = 2 * size**3
    rates: dict[str, list[float]] = {}
    a16, b16 = a.bfloat16(), b.bfloat16()
    kinds = {"fp32 torch.mm": lambda: a @ b, "bf16 torch.mm": lambda: a16 @ b16}
    if device.type == "cpu":
        kinds["fp32 oneDNN"] = lambda: onednn_mm(a, b)
    for _ in range(args.rounds):
        for name, function in kinds.items():
            rates.setdefault(name, []).append(flops / seconds_of(function, 3, device) / 1e9)
    print(f"1. matmul peak ({size}^3, median of {args.rounds} rounds):")
    medians = {name: statistics.median(values) for name, values in rates.items()}
    for name, value in medians.items():
        print(f"   {name:<14} {value:8.1f} GFLOP/s")
    peak = {"fp32": max(v for k, v in medians.items() if k.startswith("fp32")),
            "bf16": medians["bf16 torch.mm"]}
    print(f"   measured peak: fp32 {peak['fp32']:.1f} GFLOP/s, bf16 {peak['bf16']:.1f} GFLOP/s (the MFU denominators)")
    if device.type == "cpu" and shapes:
        gemm_shapes(args)
    return peak


def gemm_shapes(args) -> None:
    """fp32 GFLOP/s of the encoder's linear layers (B x kept tokens) through MKL (torch default) and oneDNN."""
    config = PIXELConfig.variant(args.size)
    tokens = args.batch_size * (num_kept(args.num_patches, 0.25) + 1)
    print(f"   pixel-{args.size} linear layers, fp32, {tokens} tokens: MKL -> oneDNN GFLOP/s (forward | grad input | "
          "grad weight)")
    hidden, intermediate = config.hidden_size, config.intermediate_size
    for n_in, n_out in ((hidden, hidden), (hidden, intermediate), (intermediate, hidden)):
        x, w, grad = torch.randn(tokens, n_in), torch.randn(n_out, n_in), torch.randn(tokens, n_out)
        flops = 2 * tokens * n_in * n_out
        products = ((x, w.t()), (grad, w), (grad.t().contiguous(), x))  # forward, grad input, grad weight
        cells = []
        for left, right in products:
            mkl_rate, onednn_rate = (
                statistics.median(flops / seconds_of(functools.partial(f, left, right), 3, torch.device("cpu"))
                                  / 1e9 for _ in range(args.rounds))
                for f in (torch.mm, onednn_mm)
            )
            cells.append(f"{mkl_rate:5.0f} -> {onednn_rate:5.0f}")
        print(f"   {n_in:>4} -> {n_out:<4}  " + " | ".join(cells))


# -------------------------------------------------------------------------------------------- 2. attention


def attention_step(function, tensors: list[torch.Tensor], bias: torch.Tensor, dtype: str, device: torch.device):
    def step() -> None:
        # bf16: q, k, v in bf16 under autocast, as they come out of autocast's linear layers
        q, k, v = (t.to(torch.bfloat16) if dtype == "bf16" else t for t in tensors)
        with runtime.autocast(device, dtype):
            out = function(q, k, v, bias, DROPOUT)
        out.float().sum().backward()

    return step


def attention_section(args, device: torch.device) -> None:
    """ms per attention layer (forward + backward, dropout 0.1) at the encoder's and the decoder's shapes."""
    config = PIXELConfig.variant(args.size, image_size=[16, 16 * args.num_patches])
    shapes = {
        "encoder": (args.batch_size, config.num_attention_heads, num_kept(args.num_patches, 0.25) + 1,
                    config.hidden_size // config.num_attention_heads),
        "decoder": (args.batch_size, config.decoder_num_attention_heads, args.num_patches + 1,
                    config.decoder_hidden_size // config.decoder_num_attention_heads),
    }
    functions = {"original": original_attention, "sdpa": kernels.sdpa_attention,
                 "chosen": kernels.attention}
    print(f"2. one attention layer, forward + backward, dropout {DROPOUT} (ms, median of {args.rounds} rounds; "
          f"chosen = pixel.model.kernels.attention, on {device.type}: "
          f"{'dropout_attention' if device.type == 'cpu' else 'SDPA'})")
    for dtype in args.dtypes:
        for name, shape in shapes.items():
            batch, heads, tokens, _ = shape
            tensors = [torch.randn(shape, device=device, requires_grad=True) for _ in range(3)]
            bias = torch.zeros(batch, 1, 1, tokens, device=device)
            bias[..., TEXT_PATCHES + 1:] = layers.MASKED_SCORE

            times: dict[str, list[float]] = {}
            for _ in range(args.rounds):
                for label, function in functions.items():
                    step = attention_step(function, tensors, bias, dtype, device)
                    times.setdefault(label, []).append(1e3 * seconds_of(step, 2, device))
            medians = {label: statistics.median(values) for label, values in times.items()}
            cells = "  ".join(f"{label} {value:7.1f}" for label, value in medians.items())
            print(f"   {dtype} {name} {list(shape)}: {cells}  | original / chosen {medians['original'] / medians['chosen']:.2f}x, "
                  f"sdpa / chosen {medians['sdpa'] / medians['chosen']:.2f}x")


# ------------------------------------------------------------------------------------------------ 3. model


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
    num_masked = num_patches - num_kept(num_patches, 0.25)
    patch_mask = torch.zeros(batch, num_patches)
    for row in range(batch):
        patch_mask[row, torch.randperm(text, generator=generator)[:num_masked]] = 1.0
    return pixel_values.to(device), attention_mask.to(device), patch_mask.to(device)


def measure_variant(spec: dict) -> dict:
    """Run in a fresh process: seconds per call and peak memory of one (variant, phase, dtype)."""
    device = torch.device(spec["device"])
    torch.set_num_threads(spec["threads"])
    torch.manual_seed(0)
    original = spec["variant"] == "yardstick"
    if not original:
        runtime.keep_freed_memory()
    config = PIXELConfig.variant(spec["size"], image_size=[16, 16 * spec["num_patches"]],
                                 hidden_dropout_prob=DROPOUT, attention_probs_dropout_prob=DROPOUT)
    model = PIXELForPreTraining(config).to(device)
    pixel_values, attention_mask, patch_mask = make_batch(spec["batch_size"], spec["num_patches"], device)
    if spec["phase"] == "encoder inference":
        model.eval()

        def call() -> None:
            with torch.inference_mode(), runtime.autocast(device, spec["dtype"]):
                model.vit(pixel_values, attention_mask=attention_mask)

        flops = model.vit.flops_per_example(training=False)
    else:
        model.train()
        parameters = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(parameters, lr=1e-4) if original else build_optimizer(model, 1e-4)

        def call() -> None:
            with runtime.autocast(device, spec["dtype"]):
                loss = model(pixel_values, attention_mask=attention_mask, patch_mask=patch_mask).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)

        flops = model.flops_per_example()
    with original_computation() if original else contextlib.nullcontext():
        for _ in range(spec["warmup"]):
            call()
        synchronize(device)
        reset_peak_memory(device)
        times = []
        for _ in range(spec["steps"]):
            started = time.perf_counter()
            call()
            synchronize(device)
            times.append(time.perf_counter() - started)
    seconds = statistics.median(times)
    return {"seconds": seconds, "peak_mb": peak_memory_mb(device),
            "gflops": flops * spec["batch_size"] / seconds / 1e9}


def run_child(spec: dict) -> dict:
    command = [sys.executable, __file__, "--child", json.dumps(spec)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child {spec} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def model_section(args, device: torch.device, peak: dict[str, float] | None) -> None:
    phases = args.phases
    print(f"3. pixel-{args.size}, batch {args.batch_size}, {args.num_patches} patches, dropout {DROPOUT}: "
          f"{args.rounds} interleaved rounds of {args.steps} timed call(s) after {args.warmup} warm-up, each in a "
          "fresh process")
    results: dict[tuple[str, str, str], list[dict]] = {}
    for round_index in range(args.rounds):
        for phase in phases:
            for dtype in args.dtypes:
                for variant in args.variants:
                    spec = {"variant": variant, "phase": phase, "dtype": dtype, "device": str(device),
                            "size": args.size, "batch_size": args.batch_size, "num_patches": args.num_patches,
                            "threads": args.threads, "steps": args.steps, "warmup": args.warmup}
                    result = run_child(spec)
                    results.setdefault((phase, dtype, variant), []).append(result)
                    print(f"   round {round_index + 1} {phase:<17} {dtype} {variant:<9} {result['seconds']:8.3f} s "
                          f"{result['gflops']:7.1f} GFLOP/s", flush=True)
    print(f"   {'phase':<17} {'dtype':<5} {'variant':<9} {'s/call':>8} {'strips/s':>9} {'GFLOP/s':>8} {'MFU':>6} "
          f"{'peak MB':>8} {'speed-up':>9} {'target':>7}")
    for phase in phases:
        for dtype in args.dtypes:
            base = results.get((phase, dtype, "yardstick"))
            for variant in args.variants:
                runs = results[(phase, dtype, variant)]
                seconds = statistics.median(r["seconds"] for r in runs)
                gflops = statistics.median(r["gflops"] for r in runs)
                peaks = [r["peak_mb"] for r in runs if r["peak_mb"] is not None]
                peak_mb = f"{statistics.median(peaks):8.0f}" if peaks else "       ?"
                mfu = f"{100 * gflops / peak[dtype]:5.1f}%" if peak else "     ?"
                speedup = target = ""
                if base is not None and variant != "yardstick":
                    ratio = statistics.median(b["seconds"] / r["seconds"] for b, r in zip(base, runs, strict=True))
                    speedup = f"{ratio:8.2f}x"
                    goal = TARGETS.get((phase, dtype))
                    target = f">= {goal}x {'met' if ratio >= goal else 'MISSED'}" if goal else ""
                print(f"   {phase:<17} {dtype:<5} {variant:<9} {seconds:8.3f} {args.batch_size / seconds:9.2f} "
                      f"{gflops:8.1f} {mfu:>6} {peak_mb} {speedup:>9} {target}")
            if base is not None:
                base_peak = statistics.median(b["peak_mb"] for b in base if b["peak_mb"] is not None)
                for variant in args.variants:
                    if variant != "yardstick":
                        ours = statistics.median(r["peak_mb"] for r in results[(phase, dtype, variant)])
                        verdict = "met" if ours <= base_peak * (1 + MEMORY_TOLERANCE) else "MISSED"
                        print(f"      peak memory {variant} / yardstick: {ours / base_peak:.3f} (target <= 1.00, "
                              f"{MEMORY_TOLERANCE:.0%} for the noise of the resident set: {verdict})")


def e2e_section(args) -> None:
    """Strips/s of end-to-end inference (render + model) at pixel-tiny and pixel-base sizes."""
    import embed as embed_benchmark

    sizes = [("pixel-tiny", *embed_benchmark.small_model(min(128, args.num_patches)), args.e2e_texts)]
    if not args.smoke:
        sizes.append(("pixel-base", *embed_benchmark.random_model(None, args.num_patches),
                      "pixel-base size (random weights)", max(args.batch_size, args.e2e_texts // 4)))
    print(f"4. end to end (render + encoder + pooling, `pixel.embed`), batch 32, median of {args.rounds} rounds:")
    print(f"   {'size':<10} {'patches':>7} {'texts':>5} {'dtype':<5} {'strips/s 0 workers':>19} "
          f"{'rendering share':>15} {'strips/s 1 worker':>18}")
    for key, encoder, renderer, _name, count in sizes:
        entry = embed_benchmark.measure(encoder, renderer, count, 32, args.rounds, 1)
        for dtype in ("fp32", "bf16"):
            figures = entry[dtype]
            print(f"   {key:<10} {renderer.max_seq_length:>7} {count:>5} {dtype:<5} "
                  f"{figures['embeddings_per_s_0_workers']:19.1f} {figures['rendering_share']:15.0%} "
                  f"{figures['embeddings_per_s_1_workers']:18.1f}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", default="peak,attention,model,e2e",
                        help="comma-separated: peak, attention, model, e2e")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per measurement")
    parser.add_argument("--steps", type=int, default=2, help="timed calls per variant and round")
    parser.add_argument("--warmup", type=int, default=2, help="untimed calls before the timed ones (the heap and "
                        "oneDNN settle in the first two)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--num-patches", type=int, default=529)
    parser.add_argument("--peak-size", type=int, default=4096, help="side of the square matmul of the peak")
    parser.add_argument("--device", default="auto", help="cpu, cuda, or auto (cuda when present)")
    parser.add_argument("--size", choices=sorted(VARIANTS), default="base")
    parser.add_argument("--dtypes", default="fp32,bf16", help="comma-separated: fp32, bf16 (autocast)")
    parser.add_argument("--variants", default=",".join(VARIANT_NAMES), help="comma-separated: yardstick, pixel-lm")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch CPU threads")
    parser.add_argument("--phases", default="pretrain,inference", help="of the model section, comma-separated: "
                        "pretrain (step), inference (encoder)")
    parser.add_argument("--e2e-texts", type=int, default=128, help="texts per end-to-end run at pixel-tiny size "
                        "(a quarter of them at pixel-base size)")
    parser.add_argument("--smoke", action="store_true", help="every section at a tiny size, one round (seconds)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.smoke:
        args.size, args.num_patches, args.batch_size, args.rounds, args.steps, args.warmup = "tiny", 32, 2, 1, 1, 1
        args.peak_size, args.threads, args.e2e_texts = 256, 1, 8
    if args.child:
        print(json.dumps(measure_variant(json.loads(args.child))))
        return 0
    if min(args.steps, args.batch_size, args.rounds) < 1 or args.warmup < 0:
        parser.error("--steps, --rounds and --batch-size must be >= 1, --warmup >= 0")
    args.dtypes = [d.strip() for d in args.dtypes.split(",") if d.strip()]
    args.variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    phase_names = {"pretrain": "pretrain step", "inference": "encoder inference"}
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    if not phases or any(p not in phase_names for p in phases):
        parser.error(f"--phases: choose from {', '.join(phase_names)}")
    args.phases = [phase_names[p] for p in phases]
    for values, allowed, flag in ((args.dtypes, ("fp32", "bf16"), "--dtypes"),
                                  (args.variants, VARIANT_NAMES, "--variants"),
                                  (sections, ("peak", "attention", "model", "e2e"), "--sections")):
        if not values or any(v not in allowed for v in values):
            parser.error(f"{flag}: choose from {', '.join(allowed)}")
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device is available")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or platform.machine()
    print(f"torch {torch.__version__} | device {device} ({where}) | threads {torch.get_num_threads()} | "
          f"MKL_DYNAMIC={os.environ.get('MKL_DYNAMIC')} | native bf16: {runtime.native_bf16(device)} | load "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    peak = None
    if "peak" in sections or "model" in sections:  # the model section's MFU needs the peak of this run
        peak = peak_section(args, device, shapes="peak" in sections)
    if "attention" in sections:
        runtime.keep_freed_memory()  # as the trainer runs; the model section's yardstick processes do not
        attention_section(args, device)
    if "model" in sections:
        model_section(args, device, peak)
    if "e2e" in sections:
        if device.type != "cpu":
            print("4. end to end: measured on the CPU only (skipped)")
        else:
            e2e_section(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
