"""pixel-base pretraining on one GPU as a real run does it (issue 12, item 6): bf16 autocast, fused AdamW,
torch.compile, and the on-the-fly data pipeline (PangoCairo rendering + span masking in N DataLoader
workers) through `pixel.train.Trainer`. Prints strips/s, MFU, the share of step time spent waiting for data
and peak memory. Target on one H200: >= 1,000 strips/s with data wait < 5 % (the original: ~46 strips/s per
A100).

    python benchmarks/gpu.py [--steps 40] [--warmup 5] [--batch-size 128] [--workers 12] [--text FILE]
        [--no-compile] [--peak-tflops T]
    python benchmarks/gpu.py --smoke      # the same path at tiny size on a CPU (seconds; tested)

Without --text a synthetic corpus of random words is used (the rendering cost depends on text length only).
The first --warmup steps (compilation, worker start) are not counted.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("MKL_DYNAMIC", "FALSE")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pretrain import ROOT, run, synthetic_corpus  # noqa: E402

TARGET_STRIPS_PER_S, TARGET_WAIT_SHARE = 1000.0, 0.05


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=40, help="timed steps")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (compilation, workers)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--workers", type=int, default=12, help="DataLoader workers rendering the strips")
    parser.add_argument("--text", help="a text file to train on (default: synthetic)")
    parser.add_argument("--no-compile", action="store_true", help="eager model instead of torch.compile")
    parser.add_argument("--peak-tflops", type=float, help="the device's bf16 peak for MFU (default: known GPUs)")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny model, 32-patch strips, 1 worker, 3 steps on a CPU: checks the script")
    args = parser.parse_args(argv)

    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu" and not args.smoke:
        parser.error("no CUDA GPU here; --smoke runs the same path at tiny size on the CPU")
    if args.smoke:
        args.steps, args.warmup, args.batch_size, args.workers = 3, 1, 4, 1
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(args.text) if args.text else synthetic_corpus(Path(tmp) / "corpus.txt")
        overrides = {"train_files": f"[{corpus}]", "validation_files": "[]", "device": device,
                     "precision": "bf16", "compile": str(not args.no_compile).lower(), "num_workers": args.workers,
                     "batch_size": args.batch_size, "max_steps": args.warmup + args.steps, "log_every": 1,
                     "eval_every": 0, "save_every": 0, "progress": "false", "tensorboard": "false",
                     "output_dir": str(Path(tmp) / "run")}
        if args.peak_tflops:
            overrides["peak_tflops"] = args.peak_tflops
        result = run(ROOT / "configs/pretrain/pixel-base.yaml", overrides, warmup=args.warmup, smoke=args.smoke)
    name = torch.cuda.get_device_name() if device == "cuda" else "CPU (smoke)"
    print(f"torch {torch.__version__} | {name} | {'tiny (smoke)' if args.smoke else 'pixel-base'} "
          f"({result['params_m']:.1f}M parameters) | batch {args.batch_size} | {args.workers} workers | bf16 | "
          f"fused AdamW | {'eager' if args.no_compile else 'torch.compile'} | {args.steps} steps after "
          f"{args.warmup} warm-up")
    mfu = f"{100 * result['mfu']:.1f} %" if result["mfu"] is not None else "n/a (unknown peak: --peak-tflops)"
    print(f"strips/s {result['strips_per_s']:.1f} | s/step {result['seconds_per_step']:.3f} | MFU {mfu} | data wait "
          f"{100 * result['wait_share']:.1f} % | peak memory {result['peak_mb']:.0f} MB")
    if "H200" in name:
        met = result["strips_per_s"] >= TARGET_STRIPS_PER_S and result["wait_share"] < TARGET_WAIT_SHARE
        print(f"target (one H200): >= {TARGET_STRIPS_PER_S:.0f} strips/s with data wait < "
              f"{100 * TARGET_WAIT_SHARE:.0f} %: {'met' if met else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
