"""Rendering speed per core: strips/s for sentence, pair and word-list modes, both renderers, the batch path and
the four renderings (continuous, words, mono, bigrams) of the PangoCairo renderer.

Rates are strips per CPU second of this single-threaded process (the wall-clock rate is printed too: on a
shared machine it also counts time other processes took).

Text: real English prose available offline (Python's own documentation topics and the licence texts in
/usr/share/common-licenses), cut into consecutive pieces of 30 words (~200 characters). Pairs join two
consecutive pieces; word lists split a piece on whitespace. Single process, torch.set_num_threads(1); each
repeat uses a fresh renderer (cold caches, as a new DataLoader worker) and the median over repeats is printed,
with the ratio to the original's figures measured on this machine class (PangoCairo renderer, 200-character
sentences, one core): sentence 9.5k, pair 6.3k, word list 3.0k strips/s.

Renderings: the same sentences with ``rendering=NAME``, each with a fresh renderer ("cold": the first texts a
new DataLoader worker sees, every cache empty) and with one that has rendered the texts once ("warm": the steady
state of a worker), and a same-run row that renders bigrams the reference way (PIXEL-M4's steps: a new surface
per text, every word measured and then drawn pair by pair with a new Pango layout per character, no cache).
Target: cached bigrams >= 4x the reference way and >= 1x continuous.

Targets of issue 12, each against a same-run yardstick: PangoCairo sentences >= 1.0x the original's steps
(`OriginalPangoCairoSteps`: a new surface, context and layout per text, as the original renderer did), pairs
>= 1.2x, ``render_batch`` to a uint8 batch >= 0.9x the plain call on the same sentences.

    python benchmarks/render.py [--texts 3000] [--seconds 3] [--repeats 3] [--renderers pangocairo,pygame]
        [--renderings continuous,words,mono,bigrams] [--only-renderings]
    python benchmarks/render.py --smoke   # every row at a tiny size (seconds; tested)
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ORIGINAL = {"sentence": 9500.0, "pair": 6300.0, "words": 3000.0}
BARE_PANGO_REFERENCE = 11000.0  # a bare Pango layout on the reference machine (issue 2)
WORDS_PER_TEXT = 30
BATCH_SIZE = 32
TARGETS = {"sentence": 1.0, "pair": 1.2, "batch": 0.9}  # issue 12: ours / the same-run yardstick


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


def rate(
    make_renderer: Callable[[], object], inputs: Sequence[object], seconds: float, batched: bool
) -> tuple[float, float]:
    """(strips per CPU second, strips per wall second) of one pass over ``inputs`` with a fresh renderer (built
    and warmed up outside the timing), stopped after ``seconds`` of CPU time."""
    from pixel.render.batch import render_batch

    renderer = make_renderer()
    renderer(inputs[0][:1] if isinstance(inputs[0], list) else inputs[0])  # font maps are built on first use
    done = 0
    wall, cpu = time.perf_counter(), time.process_time()
    step = BATCH_SIZE if batched else 1
    for i in range(0, len(inputs), step):
        if batched:
            done += len(render_batch(renderer, inputs[i : i + step]))
        else:
            renderer(inputs[i])
            done += 1
        if time.process_time() - cpu > seconds:
            break
    return done / (time.process_time() - cpu), done / (time.perf_counter() - wall)


class OriginalPyGamePipeline:
    """The original PyGame renderer's steps for one text (font.render of the whole string, blit onto a white
    Surface, black end patch, surfarray), as a yardstick for our cached-glyph layout."""

    def __init__(self) -> None:
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        import pygame
        import pygame.freetype

        from pixel.render.base import DEFAULT_FONT_FILE

        self.pygame = pygame
        pygame.freetype.init()
        pygame.freetype.set_default_resolution(120)
        self.font = pygame.freetype.Font(str(DEFAULT_FONT_FILE), 8)

    def __call__(self, text: str) -> object:
        pygame = self.pygame
        surface = pygame.Surface((8464, 16))
        surface.fill((255, 255, 255))
        text_surface, rect = self.font.render(text, (0, 0, 0, 255))
        rect.midleft = (2, 8)
        surface.blit(text_surface, rect)
        end = min(-(-(2 + rect.width + 2) // 16) * 16, 8448)
        pygame.draw.rect(surface, (0, 0, 0, 255), pygame.Rect(end, 0, 16, 16))
        return pygame.surfarray.pixels3d(surface)[:, :, 0].T.copy()


class BarePangoLayout:
    """One reused Pango layout drawn onto one reused A8 surface: the ceiling of any PangoCairo renderer (no
    separator patch, no checks, no copy). The issue's reference machine measured ~11k strips/s for it."""

    def __init__(self) -> None:
        import cairocffi
        import pangocairocffi
        import pangocffi

        self.cairo, self.pangocairo = cairocffi, pangocairocffi
        self.surface = cairocffi.ImageSurface(cairocffi.FORMAT_A8, 8464, 16)
        self.context = cairocffi.Context(self.surface)
        self.layout = pangocairocffi.create_layout(self.context)
        description = pangocffi.FontDescription()
        description.family = "Noto Sans"
        description.size = pangocffi.units_from_double(8 * 120 / 96)  # 13.33 px at Pango's 96 dpi
        self.layout.font_description = description

    def __call__(self, text: str) -> object:
        context = self.context
        context.set_operator(self.cairo.OPERATOR_CLEAR)
        context.paint()
        context.set_operator(self.cairo.OPERATOR_OVER)
        self.layout.text = text
        context.move_to(2, -3.5)
        self.pangocairo.show_layout(context, self.layout)
        self.surface.flush()
        return self.surface.get_data()


class OriginalPangoCairoSteps:
    """The original PangoCairo renderer's steps for one sentence or pair (a new A8 surface, context and layout
    per text as its ``get_empty_surface``/``create_layout`` did, pixel size, draw, buffer -> numpy -> invert,
    black patches), as a same-run yardstick for "no slower than the original"."""

    def __init__(self) -> None:
        import cairocffi
        import pangocairocffi
        import pangocffi

        self.cairo, self.pangocairo, self.pango = cairocffi, pangocairocffi, pangocffi

    def _layout(self, context: object, text: str) -> object:
        layout = self.pangocairo.create_layout(context)
        description = self.pango.FontDescription()
        description.family = "Noto Sans"
        description.size = self.pango.units_from_double(8 * 120 / 96)
        layout.font_description = description
        layout.text = text
        return layout

    def __call__(self, text: str | tuple[str, str]) -> object:
        import numpy as np

        surface = self.cairo.ImageSurface(self.cairo.FORMAT_A8, 8464, 16)
        context = self.cairo.Context(surface)
        offset, seps = 2.0, []
        for piece in text if isinstance(text, tuple) else (text,):
            layout = self._layout(context, piece.replace("\n", " "))
            width, height = (v / 1024 for v in layout.get_size())
            context.move_to(offset, 8 - height / 2 - 2)
            self.pangocairo.show_layout(context, layout)
            sep = min(-(-(offset + width + 2) // 16) * 16, 8448)
            seps.append(int(sep))
            offset = sep + 16 + 2
        surface.flush()
        image = np.invert(np.frombuffer(surface.get_data(), dtype=np.uint8).reshape(16, -1)[:, :8464])
        for sep in seps:
            image[:, sep : sep + 16] = 0
        return image


class ReferenceBigramSteps:
    """PIXEL-M4's bigram renderer's steps for one sentence (``pangocairo_renderer_bigrams_iso_char.py``): the
    right-to-left vote, a new A8 surface, a measuring pass and a drawing pass over every word's character pairs,
    each character in a new layout (create_layout, font, text, pixel size; then move_to and show_layout), buffer
    -> numpy -> invert, black end patch."""

    def __init__(self) -> None:
        import cairocffi
        import pangocairocffi
        import pangocffi

        from pixel.render.pangocairo import PangoCairoTextRenderer

        self.cairo, self.pangocairo = cairocffi, pangocairocffi
        self.description = pangocffi.FontDescription()
        self.description.family = "Noto Sans"
        self.description.size = pangocffi.units_from_double(8 * 120 / 96)
        self.is_rtl = PangoCairoTextRenderer().is_rtl

    def _layout(self, context: object, char: str) -> tuple[object, int, int]:
        layout = self.pangocairo.create_layout(context)
        layout.font_description = self.description
        layout.text = char
        _ink, logical = layout.get_extents()
        return layout, -(-logical.width // 1024), -(-logical.height // 1024)

    def __call__(self, text: str) -> object:
        import numpy as np

        words = text.strip().split()
        self.is_rtl(" ".join(words))
        surface = self.cairo.ImageSurface(self.cairo.FORMAT_A8, 8464, 16)
        context = self.cairo.Context(surface)
        for draw in (False, True):
            offset = 0
            for word in words:
                for i in range(0, len(word), 2):
                    x = offset
                    for char in word[i : i + 2]:
                        layout, width, height = self._layout(context, char)
                        if draw:
                            context.move_to(x, 8 - height / 2 - 2)
                            self.pangocairo.show_layout(context, layout)
                        x += width
                    offset = -(-x // 16) * 16
        surface.flush()
        image = np.invert(np.frombuffer(surface.get_data(), dtype=np.uint8).reshape(16, -1)[:, :8464])
        end = min(offset, 8448)
        image[:, end : end + 16] = 0
        return image


def renderings_section(texts: list[str], names: list[str], seconds: float, repeats: int) -> None:
    """Strips/s of the PangoCairo renderings on the same sentences, cold and warm, and the reference bigrams."""
    from pixel.render.pangocairo import PangoCairoTextRenderer

    def fresh(name: str) -> Callable[[], object]:
        return lambda: PangoCairoTextRenderer(rendering=name)

    def warmed(name: str) -> Callable[[], object]:
        def make() -> object:
            renderer = PangoCairoTextRenderer(rendering=name)
            for text in texts:
                renderer(text)
            return renderer

        return make

    def median_rate(make: Callable[[], object]) -> float:
        return statistics.median(rate(make, texts, seconds, batched=False)[0] for _ in range(repeats))

    print(f"{'rendering':<11} {'cold strips/s':>14} {'warm strips/s':>14}   (sentences, PangoCairo, one core)")
    measured: dict[str, tuple[float, float]] = {}
    for name in names:
        measured[name] = (median_rate(fresh(name)), median_rate(warmed(name)))
        print(f"{name:<11} {measured[name][0]:14.0f} {measured[name][1]:14.0f}")
    reference = median_rate(ReferenceBigramSteps)
    print(f"{'bigrams-ref':<11} {reference:14.0f} {'':>14}   (PIXEL-M4's steps: a layout per character, no cache)")
    if "bigrams" in measured:
        cold, warm = measured["bigrams"]
        print(f"bigrams vs the reference way: cold {cold / reference:.1f}x, warm {warm / reference:.1f}x (target >= 4x)")
        if "continuous" in measured:
            base_cold, base_warm = measured["continuous"]
            print(f"bigrams vs continuous: cold {cold / base_cold:.2f}x, warm {warm / base_warm:.2f}x (target >= 1x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=2500, help="number of 30-word texts")
    parser.add_argument("--seconds", type=float, default=3.0, help="time limit of one repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--renderers", default="pangocairo,pygame")
    parser.add_argument("--renderings", default="continuous,words,mono,bigrams")
    parser.add_argument("--only-renderings", action="store_true", help="measure only the renderings section")
    parser.add_argument("--smoke", action="store_true", help="40 texts, 0.2 s per repeat, 1 repeat: checks the script")
    args = parser.parse_args()
    if args.smoke:
        args.texts, args.seconds, args.repeats = 40, 0.2, 1

    import torch

    from pixel.render.folder import renderer_class

    torch.set_num_threads(1)
    texts = load_texts(args.texts)
    chars = statistics.mean(len(text) for text in texts)
    print(f"{len(texts)} texts of {WORDS_PER_TEXT} words, {chars:.0f} characters on average")
    if args.only_renderings:
        print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
        renderings_section(texts, args.renderings.split(","), args.seconds, args.repeats)
        return
    inputs = {
        "sentence": texts,
        "pair": [(texts[i], texts[i + 1]) for i in range(len(texts) - 1)],
        "words": [text.split() for text in texts],
        "batch": texts,
    }
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    print(f"{'renderer':<11} {'mode':<9} {'strips/s':>9} {'vs original':>12} {'wall strips/s':>14}")
    measured: dict[str, dict[str, float]] = {}
    for backend in args.renderers.split(","):
        cls = renderer_class(backend)
        measured[backend] = {}
        for mode, items in inputs.items():
            rates = [rate(cls, items, args.seconds, batched=mode == "batch") for _ in range(args.repeats)]
            per_cpu = statistics.median(r[0] for r in rates)
            per_wall = statistics.median(r[1] for r in rates)
            measured[backend][mode] = per_cpu
            baseline = ORIGINAL["sentence" if mode == "batch" else mode]
            print(f"{backend:<11} {mode:<9} {per_cpu:9.0f} {per_cpu / baseline:11.2f}x {per_wall:14.0f}")
    rates = [rate(OriginalPyGamePipeline, texts, args.seconds, batched=False) for _ in range(args.repeats)]
    per_cpu = statistics.median(r[0] for r in rates)
    per_wall = statistics.median(r[1] for r in rates)
    print(f"{'pygame-orig':<11} {'sentence':<9} {per_cpu:9.0f} {per_cpu / ORIGINAL['sentence']:11.2f}x {per_wall:14.0f}"
          "   (the original's PyGame steps, for scale)")
    yardstick: dict[str, float] = {}
    for mode in ("sentence", "pair"):
        rates = [rate(OriginalPangoCairoSteps, inputs[mode], args.seconds, batched=False) for _ in range(args.repeats)]
        original_steps = yardstick[mode] = statistics.median(r[0] for r in rates)
        note = ""
        if "pangocairo" in measured:
            note = f"   ours: {measured['pangocairo'][mode] / original_steps:.2f}x the original's steps"
        print(f"{'pango-orig':<11} {mode:<9} {original_steps:9.0f} {original_steps / ORIGINAL[mode]:11.2f}x "
              f"{statistics.median(r[1] for r in rates):14.0f}{note}")
    rates = [rate(BarePangoLayout, texts, args.seconds, batched=False) for _ in range(args.repeats)]
    bare = statistics.median(r[0] for r in rates)
    print(f"{'bare-pango':<11} {'sentence':<9} {bare:9.0f} {bare / ORIGINAL['sentence']:11.2f}x "
          f"{statistics.median(r[1] for r in rates):14.0f}   (one reused Pango layout: the ceiling)")
    if "pangocairo" in measured:
        print("PangoCairo relative to bare Pango in this run (the original on the reference machine: sentence "
              f"{ORIGINAL['sentence'] / BARE_PANGO_REFERENCE:.2f}, pair {ORIGINAL['pair'] / BARE_PANGO_REFERENCE:.2f}, "
              f"words {ORIGINAL['words'] / BARE_PANGO_REFERENCE:.2f}):")
        for mode, value in measured["pangocairo"].items():
            print(f"  {mode:<9} {value / bare:.2f}x bare")
    if "pangocairo" in measured:
        ours = measured["pangocairo"]
        print("targets (issue 12, same run):")
        for mode, name, ratio in (("sentence", "sentence / the original's steps", ours["sentence"] / yardstick["sentence"]),
                                  ("pair", "pair / the original's steps", ours["pair"] / yardstick["pair"]),
                                  ("batch", "render_batch / the plain call", ours["batch"] / ours["sentence"])):
            goal = TARGETS[mode]
            print(f"  {name:<32} {ratio:6.3f}x >= {goal}x {'met' if ratio >= goal else 'MISSED'}")
    if args.renderings:
        renderings_section(texts, args.renderings.split(","), args.seconds, args.repeats)
    print(f"strips/s: per CPU second of this process (median of {args.repeats} repeats); batch = sentences "
          f"to a uint8 batch of {BATCH_SIZE}, compared with the original's sentence figure")


if __name__ == "__main__":
    main()
