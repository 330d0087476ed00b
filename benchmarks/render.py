"""Rendering speed per core: strips/s for sentence, pair and word-list modes, both renderers, and the batch path.

Text: real English prose available offline (Python's own documentation topics and the licence texts in
/usr/share/common-licenses), cut into consecutive pieces of 30 words (~200 characters). Pairs join two
consecutive pieces; word lists split a piece on whitespace. Single process, torch.set_num_threads(1); each
repeat uses a fresh renderer (cold caches, as a new DataLoader worker) and the median over repeats is printed,
with the ratio to the original's figures measured on this machine class (PangoCairo renderer, 200-character
sentences, one core): sentence 9.5k, pair 6.3k, word list 3.0k strips/s.

    python benchmarks/render.py [--texts 3000] [--seconds 3] [--repeats 3]
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ORIGINAL = {"sentence": 9500.0, "pair": 6300.0, "words": 3000.0}
WORDS_PER_TEXT = 30
BATCH_SIZE = 32


def english_prose() -> str:
    """Offline English prose: paragraphs of Python's doc topics (no code) and the common licence texts."""
    import pydoc_data.topics

    paragraphs: list[str] = []
    for topic in pydoc_data.topics.topics.values():
        for block in re.split(r"\n\s*\n", topic):
            lines = block.splitlines()
            if not lines or any(line.startswith((" ", "\t", ">>>")) for line in lines):
                continue  # code examples and indented grammar rules
            paragraphs.append(" ".join(lines))
    for licence in sorted(Path("/usr/share/common-licenses").glob("*")):
        if licence.is_file():
            paragraphs.append(licence.read_text(encoding="utf-8", errors="replace"))
    return " ".join(paragraphs)


def load_texts(count: int) -> list[str]:
    words = [word for word in english_prose().split() if word.isprintable()]
    pieces = [" ".join(words[i : i + WORDS_PER_TEXT]) for i in range(0, len(words) - WORDS_PER_TEXT, WORDS_PER_TEXT)]
    if len(pieces) < count:
        print(f"note: only {len(pieces)} pieces of {WORDS_PER_TEXT} words available (asked for {count})")
    return pieces[:count]


def rate(make_renderer: Callable[[], object], inputs: Sequence[object], seconds: float, batched: bool) -> float:
    """Strips per second of one pass over ``inputs`` (stopped after ``seconds``), fresh renderer."""
    from pixel.render.batch import render_batch

    renderer = make_renderer()
    done = 0
    start = time.perf_counter()
    if batched:
        for i in range(0, len(inputs), BATCH_SIZE):
            done += len(render_batch(renderer, inputs[i : i + BATCH_SIZE]))
            if time.perf_counter() - start > seconds:
                break
    else:
        for item in inputs:
            renderer(item)
            done += 1
            if time.perf_counter() - start > seconds:
                break
    return done / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=3000, help="number of 30-word texts")
    parser.add_argument("--seconds", type=float, default=3.0, help="time limit of one repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--renderers", default="pangocairo,pygame")
    args = parser.parse_args()

    import torch

    from pixel.render.base import renderer_class

    torch.set_num_threads(1)
    texts = load_texts(args.texts)
    chars = statistics.mean(len(text) for text in texts)
    print(f"{len(texts)} texts of {WORDS_PER_TEXT} words, {chars:.0f} characters on average")
    inputs = {
        "sentence": texts,
        "pair": [(texts[i], texts[i + 1]) for i in range(len(texts) - 1)],
        "words": [text.split() for text in texts],
        "batch": texts,
    }
    print(f"{'renderer':<11} {'mode':<9} {'strips/s':>9} {'vs original':>12}   (median of {args.repeats})")
    for backend in args.renderers.split(","):
        cls = renderer_class(backend)
        for mode, items in inputs.items():
            rates = [rate(cls, items, args.seconds, batched=mode == "batch") for _ in range(args.repeats)]
            median = statistics.median(rates)
            baseline = ORIGINAL.get("sentence" if mode == "batch" else mode)
            ratio = f"{median / baseline:.2f}x" if baseline else "-"
            print(f"{backend:<11} {mode:<9} {median:9.0f} {ratio:>12}")


if __name__ == "__main__":
    main()
