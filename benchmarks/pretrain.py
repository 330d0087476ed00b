"""End-to-end pretraining throughput on this machine (issue 4, item 7).

1. The tiny config (configs/pretrain/tiny-cpu.yaml, PangoCairo rendering + span masking in DataLoader workers)
   with 0, 1 and 2 data workers: strips/s and the share of step time spent waiting for data (goal: < 10 %
   with workers).
2. A few pixel-base steps (configs/pretrain/pixel-base.yaml model, 529 patches): seconds per step, strips/s.

    python benchmarks/pretrain.py [--steps 12] [--base-steps 2] [--base-batch 4] [--text FILE] [--device cpu]

Without --text a synthetic corpus of random words is used (rendering cost depends on text length only).
The first 2 steps of each run are warm-up (worker start, allocator) and are not counted.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import tempfile
import time
from pathlib import Path

os.environ.setdefault("MKL_DYNAMIC", "FALSE")

ROOT = Path(__file__).resolve().parents[1]
WARMUP_STEPS = 2


def synthetic_corpus(path: Path, lines: int = 4000) -> Path:
    rng = random.Random(0)
    words = ("pixel language model render text image patch strip mask train learn token font glyph "
             "Wort Sprache Bild texte langue modèle слово язык").split()
    path.write_text("\n".join(" ".join(rng.choice(words) for _ in range(rng.randint(5, 40)))
                              for _ in range(lines)) + "\n", encoding="utf-8")
    return path


def run(config_file: Path, overrides: dict, warmup: int = WARMUP_STEPS, smoke: bool = False) -> dict:
    """Train with ``config_file`` + ``overrides`` (log_every 1); throughput of the steps after ``warmup``:
    strips/s, data-wait share, s/step, MFU (None when the device's peak is unknown), peak memory (MB: CUDA
    max allocated, else the peak resident set), wall time, parameters (M)."""
    import torch

    from pixel.pretrain.config import PretrainConfig
    from pixel.pretrain.task import PretrainingTask, build_model, build_renderer
    from pixel.train.config import load_config
    from pixel.train.metrics import read_metrics
    from pixel.train.trainer import Trainer

    config = load_config(PretrainConfig, config_file, [(k, str(v)) for k, v in overrides.items()], smoke=smoke)
    config.validate()
    task = PretrainingTask(config, build_model(config), build_renderer(config)[0])
    trainer = Trainer(task, config)
    if trainer.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(trainer.device)
    started = time.perf_counter()
    trainer.train()
    wall = time.perf_counter() - started
    records = [m for m in read_metrics(config.output_dir) if "loss" in m][warmup:]
    if not records:
        raise ValueError(f"no step after the {warmup} warm-up steps: raise max_steps")
    seconds = sum(config.batch_size / m["strips_per_s"] for m in records)
    waiting = sum(config.batch_size / m["strips_per_s"] * m["data_wait_share"] for m in records)
    strips_per_s = len(records) * config.batch_size / seconds
    # the logged MFU is proportional to each step's strips/s: scale it to the whole measured stretch
    mfu = records[0]["mfu"] / records[0]["strips_per_s"] * strips_per_s if records[0].get("mfu") else None
    if trainer.device.type == "cuda":
        peak_mb = torch.cuda.max_memory_allocated(trainer.device) / 2**20
    else:
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"strips_per_s": strips_per_s, "wait_share": waiting / seconds,
            "seconds_per_step": seconds / len(records), "wall_s": wall, "mfu": mfu, "peak_mb": peak_mb,
            "params_m": sum(p.numel() for p in task.model.parameters()) / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--base-steps", type=int, default=2)
    parser.add_argument("--base-batch", type=int, default=4)
    parser.add_argument("--text", help="a text file to train on (default: synthetic)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(args.text) if args.text else synthetic_corpus(Path(tmp) / "corpus.txt")
        common = {"train_files": f"[{corpus}]", "validation_files": "[]", "device": args.device,
                  "save_every": 0, "log_every": 1, "progress": "false", "tensorboard": "false",
                  "max_steps": args.steps + WARMUP_STEPS}
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs, "
              f"device {args.device}")
        print("tiny-cpu config (PangoCairo, span masking, batch 16):")
        results = {}
        for workers in args.workers:
            out = Path(tmp) / f"tiny-{workers}"
            result = run(ROOT / "configs/pretrain/tiny-cpu.yaml",
                         {**common, "num_workers": workers, "output_dir": out})
            results[workers] = result
            print(f"  workers {workers}: {result['strips_per_s']:7.2f} strips/s, "
                  f"{result['seconds_per_step']:.3f} s/step, data wait {100 * result['wait_share']:5.1f} % "
                  f"({result['params_m']:.2f}M params)")
        if 0 in results and len(results) > 1:
            best = max((w for w in results if w), key=lambda w: results[w]["strips_per_s"])
            print(f"  speed-up with {best} worker(s) over in-process data: "
                  f"{results[best]['strips_per_s'] / results[0]['strips_per_s']:.2f}x")
        if args.base_steps:
            out = Path(tmp) / "base"
            result = run(ROOT / "configs/pretrain/pixel-base.yaml",
                         {**common, "output_dir": out, "num_workers": 1, "batch_size": args.base_batch,
                          "max_steps": args.base_steps + 1, "precision": "fp32" if args.device == "cpu" else "bf16"},
                         warmup=1)
            print(f"pixel-base ({result['params_m']:.1f}M params, 529 patches, batch {args.base_batch}): "
                  f"{result['seconds_per_step']:.2f} s/step, {result['strips_per_s']:.2f} strips/s, "
                  f"data wait {100 * result['wait_share']:.1f} %")


if __name__ == "__main__":
    main()
