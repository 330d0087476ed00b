"""`pixel explain` speed (issue 14, item 7): seconds per strip of a relevance map, and what returning the
attention probabilities costs a forward pass.

For a sequence classifier (CLS pooling, as the original explained) at tiny size (``PIXELConfig.variant("tiny")``)
and pixel-base size, random weights, one strip of ``--length`` patches with a sentence of text:
1. the default inference forward (fused SDPA attention) and the forward with ``output_attentions=True`` (the
   written-out attention that returns the probabilities), same-run medians and their ratio;
2. `pixel.explain.relevance` per strip: ``chefer`` (forward with attentions + backward to all attention maps +
   the rollout) and ``gradient`` (forward + backward to the patch embeddings), medians; rendering included.

    python benchmarks/explain.py [--repeats 5] [--length 256] [--sizes tiny,base] [--device cpu] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("MKL_DYNAMIC", "FALSE")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

TEXT = ("Pixel-based language models read text as pictures: a renderer draws the sentence into a strip of "
        "sixteen-pixel patches, and a vision transformer encodes them.")


def median_seconds(function: Callable[[], object], repeats: int) -> float:
    function()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--length", type=int, default=256, help="patches per strip (the fine-tuning default)")
    parser.add_argument("--sizes", default="tiny,base")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, help="torch threads (default torch's; 1 on a busy shared CPU, where "
                                                   "waiting for a descheduled second thread dominates tiny ops)")
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    from pixel.explain import relevance
    from pixel.model.config import PIXELConfig
    from pixel.model.heads import PIXELForSequenceClassification
    from pixel.render.batch import collate, to_model_inputs
    from pixel.render.pangocairo import PangoCairoTextRenderer

    renderer = PangoCairoTextRenderer(max_seq_length=args.length)
    batch = collate([renderer(TEXT)])
    pixel_values = to_model_inputs(batch["pixel_values"], args.device)
    mask = batch["attention_mask"].to(args.device)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}, one strip of "
          f"{args.length} patches ({int(mask.sum())} attended), medians of {args.repeats}")
    print(f"{'size':6} {'forward s':>10} {'+attentions s':>14} {'ratio':>6} {'chefer s/strip':>15} "
          f"{'gradient s/strip':>17}")
    for size in args.sizes.split(","):
        torch.manual_seed(0)
        config = PIXELConfig.variant(size, image_size=[16, 16 * args.length], id2label={0: "a", 1: "b"})
        model = PIXELForSequenceClassification(config, pooling_mode="cls").to(args.device).eval()

        def forward(attentions: bool, model=model) -> None:
            with torch.inference_mode():
                model(pixel_values, attention_mask=mask, output_attentions=attentions)

        plain = median_seconds(lambda: forward(False), args.repeats)
        with_attentions = median_seconds(lambda: forward(True), args.repeats)
        chefer = median_seconds(lambda model=model: relevance(model, renderer, TEXT), args.repeats)
        gradient = median_seconds(lambda model=model: relevance(model, renderer, TEXT, method="gradient"),
                                  args.repeats)
        print(f"{size:6} {plain:10.4f} {with_attentions:14.4f} {with_attentions / plain:6.2f} {chefer:15.4f} "
              f"{gradient:17.4f}")


if __name__ == "__main__":
    main()
