"""Sentence-embedding throughput of `pixel embed` on this machine (issue 14, item 7).

For models/pixel-tiny (4 x 192, strips of 128 patches; random weights of that size when the folder is
missing) and for pixel-base size (12 x 768, random weights, strips of --base-length patches), in fp32 and bf16
(autocast): embeddings/s of `pixel.embed` end to end (rendering, batching, encoding, pooling), rendering in
the main process (0 workers) and in --workers DataLoader workers, and the share of the 0-worker run's time
spent inside the renderer. Texts: 4 to 16 words drawn by Zipf's law from 20,000 made-up words (Latin and
Cyrillic letters), new texts for every run, so that the renderer's word cache sees a stream as in a real job.
Each figure is the median of --repeats runs (fp32 and bf16 runs alternate) after a warm-up batch, the
bf16 / fp32 ratio the median of the repeats' ratios; the machine may be shared, so compare the figures of
one run.

    python benchmarks/embed.py [--texts 256] [--base-texts 16] [--batch 32] [--base-length 529] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from pathlib import Path

os.environ.setdefault("MKL_DYNAMIC", "FALSE")

ROOT = Path(__file__).resolve().parents[1]
LETTERS = "abcdefghijklmnopqrstuvwxyzäöüéèàñабвгдежзиклмнопрстуфхцчшыэюя"
VOCABULARY = ["".join(random.Random(i).choices(LETTERS[:30] if i % 3 else LETTERS[30:], k=2 + i % 9))
              for i in range(20_000)]
ZIPF = [1.0 / rank for rank in range(1, len(VOCABULARY) + 1)]


def sentences(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choices(VOCABULARY, ZIPF, k=rng.randint(4, 16))).capitalize() + "."
            for _ in range(count)]


class TimedRenderer:
    """A renderer that adds up the seconds spent in its calls (in the process that calls it)."""

    def __init__(self, renderer) -> None:
        self.renderer, self.seconds = renderer, 0.0

    def __call__(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return self.renderer(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started


def small_model(length: int):
    """(encoder, renderer, name): models/pixel-tiny, or a random model of its size."""
    from pixel.embedding.encode import load_encoder

    shipped = ROOT / "models" / "pixel-tiny"
    if (shipped / "model.safetensors").is_file():
        encoder, renderer = load_encoder(shipped, max_seq_length=length)
        return encoder, renderer, "models/pixel-tiny"
    return random_model({"hidden_size": 192, "num_hidden_layers": 4, "num_attention_heads": 4,
                         "intermediate_size": 768}, length) + ("pixel-tiny size (random weights)",)


def random_model(settings: dict | None, length: int):
    import torch

    from pixel.model.config import PIXELConfig
    from pixel.model.pixel import PIXELModel
    from pixel.render.pangocairo import PangoCairoTextRenderer

    torch.manual_seed(0)
    config = PIXELConfig(**(settings or {}), image_size=[16, 16 * length])
    return PIXELModel(config).eval(), PangoCairoTextRenderer(max_seq_length=length)


def measure(encoder, renderer, count: int, batch: int, repeats: int, workers: int) -> dict:
    from pixel.embedding.encode import embed

    def seconds(texts: list[str], precision: str, num_workers: int, timed=None) -> float:
        started = time.perf_counter()
        embed(encoder, texts, batch_size=batch, num_workers=num_workers, precision=precision,
              renderer=timed or renderer, device="cpu")
        return time.perf_counter() - started

    runs: dict = {precision: {"serial": [], "parallel": [], "share": []} for precision in ("fp32", "bf16")}
    seed = 0
    for precision in runs:
        seconds(sentences(batch, seed := seed + 1), precision, 0)  # warm-up
    for _ in range(repeats):
        for precision, figures in runs.items():
            timed = TimedRenderer(renderer)
            serial = seconds(sentences(count, seed := seed + 1), precision, 0, timed)
            figures["serial"].append(count / serial)
            figures["share"].append(timed.seconds / serial)
            figures["parallel"].append(count / seconds(sentences(count, seed := seed + 1), precision, workers))
    ratios = [b / f for b, f in zip(runs["bf16"]["serial"], runs["fp32"]["serial"], strict=True)]
    entry = {"texts": count, "strip_patches": renderer.max_seq_length, "batch": batch,
             "bf16_over_fp32": statistics.median(ratios)}
    for precision, figures in runs.items():
        entry[precision] = {"embeddings_per_s_0_workers": statistics.median(figures["serial"]),
                            f"embeddings_per_s_{workers}_workers": statistics.median(figures["parallel"]),
                            "rendering_share": statistics.median(figures["share"])}
    return entry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=256, help="texts per run at pixel-tiny size")
    parser.add_argument("--base-texts", type=int, default=16, help="texts per run at pixel-base size")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--base-length", type=int, default=529, help="strip patches at pixel-base size")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--base-repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="DataLoader workers of the parallel runs")
    parser.add_argument("--skip-base", action="store_true")
    args = parser.parse_args()
    import torch

    from pixel.runtime import native_bf16

    results = {"threads": torch.get_num_threads(), "cpus": os.cpu_count(),
               "native_bf16": native_bf16(torch.device("cpu"))}
    print(f"CPU, {results['threads']} torch threads, {results['cpus']} cores, native bf16: "
          f"{results['native_bf16']}", flush=True)
    sizes = [("pixel-tiny", *small_model(128), args.texts, args.repeats)]
    if not args.skip_base:
        sizes.append(("pixel-base", *random_model(None, args.base_length), "pixel-base size (random weights)",
                      args.base_texts, args.base_repeats))
    for key, encoder, renderer, name, count, repeats in sizes:
        entry = {"model": name, **measure(encoder, renderer, count, args.batch, repeats, args.workers)}
        results[key] = entry
        for precision in ("fp32", "bf16"):
            figures = entry[precision]
            print(f"{key:>10} {precision} (L {entry['strip_patches']}, batch {args.batch}, {count} texts, "
                  f"{repeats} repeats): "
                  f"{figures['embeddings_per_s_0_workers']:.1f} embeddings/s rendering in the main process "
                  f"(rendering {figures['rendering_share']:.0%} of the time), "
                  f"{figures[f'embeddings_per_s_{args.workers}_workers']:.1f} with {args.workers} worker(s)",
                  flush=True)
        print(f"{key:>10} bf16 / fp32: {entry['bf16_over_fp32']:.2f}x (median of the repeats' ratios, 0 workers)",
              flush=True)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
