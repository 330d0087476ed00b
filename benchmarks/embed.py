"""Sentence-embedding throughput of `pixel embed` on this machine (issue 14, item 7).

For models/pixel-tiny (4 x 192, strips of 128 patches; random weights of that size when the folder is
missing) and for pixel-base size (12 x 768, random weights, strips of --base-length patches), in fp32 and bf16
(autocast): embeddings/s of `pixel.embed` end to end (rendering, batching, encoding, pooling), with rendering
in the main process (0 workers) and in DataLoader workers (the default), and the share of the time spent
rendering (rendering alone / the 0-worker run). Each figure is the median of --repeats runs after a
warm-up batch; the machine may be shared, so compare figures of one run.

    python benchmarks/embed.py [--texts 256] [--base-texts 24] [--batch 32] [--base-length 529] [--repeats 3]
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
WORDS = ("pixel language model render text image patch strip the a of and is reads pictures "
         "Wort Sprache Bild liest Katze texte langue modèle lit chat слово язык читает кошка").split()


def sentences(count: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 16))) for _ in range(count)]


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


def median_seconds(run, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(encoder, renderer, texts: list[str], batch: int, repeats: int, workers: int) -> dict:
    from pixel.embedding.encode import embed

    rendering = median_seconds(lambda: [renderer(text) for text in texts], repeats)
    entry = {"texts": len(texts), "strip_patches": renderer.max_seq_length, "batch": batch,
             "rendering_per_s": len(texts) / rendering}
    for precision in ("fp32", "bf16"):
        def run(inputs: list[str], num_workers: int, chosen: str = precision) -> None:
            embed(encoder, inputs, batch_size=batch, num_workers=num_workers, precision=chosen, renderer=renderer,
                  device="cpu")

        run(texts[:batch], 0)  # warm-up
        serial = median_seconds(lambda: run(texts, 0), repeats)
        parallel = median_seconds(lambda: run(texts, workers), repeats)
        entry[precision] = {"embeddings_per_s_0_workers": len(texts) / serial,
                            f"embeddings_per_s_{workers}_workers": len(texts) / parallel,
                            "rendering_share": rendering / serial}
    return entry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=256, help="texts per run at pixel-tiny size")
    parser.add_argument("--base-texts", type=int, default=24, help="texts per run at pixel-base size")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--base-length", type=int, default=529, help="strip patches at pixel-base size")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="DataLoader workers of the parallel runs")
    parser.add_argument("--skip-base", action="store_true")
    args = parser.parse_args()
    import torch

    from pixel.embedding.encode import native_bf16

    results = {"threads": torch.get_num_threads(), "cpus": os.cpu_count(),
               "native_bf16": native_bf16(torch.device("cpu"))}
    print(f"CPU, {results['threads']} torch threads, {results['cpus']} cores, native bf16: "
          f"{results['native_bf16']}", flush=True)
    sizes = [("pixel-tiny", *small_model(128), args.texts)]
    if not args.skip_base:
        sizes.append(("pixel-base", *random_model(None, args.base_length), "pixel-base size (random weights)",
                      args.base_texts))
    for key, encoder, renderer, name, count in sizes:
        entry = {"model": name, **measure(encoder, renderer, sentences(count), args.batch, args.repeats,
                                          args.workers)}
        results[key] = entry
        for precision in ("fp32", "bf16"):
            figures = entry[precision]
            print(f"{key:>10} {precision} (L {entry['strip_patches']}, batch {args.batch}, {count} texts): "
                  f"{figures['embeddings_per_s_0_workers']:.1f} embeddings/s rendering in the main process "
                  f"(rendering {figures['rendering_share']:.0%} of the time), "
                  f"{figures[f'embeddings_per_s_{args.workers}_workers']:.1f} with {args.workers} worker(s)",
                  flush=True)
        ratio = entry["bf16"]["embeddings_per_s_0_workers"] / entry["fp32"]["embeddings_per_s_0_workers"]
        print(f"{key:>10} bf16 / fp32: {ratio:.2f}x; rendering alone {entry['rendering_per_s']:.0f} texts/s",
              flush=True)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
