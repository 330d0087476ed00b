"""Structured renderings (Lotz et al., EMNLP 2023): the registry and what BIGRAMS, WORDS and MONO share.

``PangoCairoTextRenderer(rendering=NAME)`` draws text in one of four ways:

- ``continuous``: the original PIXEL rendering (one Pango layout per text); implemented by the renderer.
- ``bigrams``: every word cut into character pairs, each pair at the start of its own patch (PIXEL-M4).
- ``words``: every word starts at a patch boundary (continuous text inside a word).
- ``mono``: a monospaced font on a grid of cells, a fixed number of characters per patch.

Every rendering takes the same inputs (a text, a ``(text_a, text_b)`` pair, a word list) and returns the same
:class:`~pixel.render.encoding.Encoding`. What the three structured ones share lives here: splitting text into
words (Python's ``str.split``, as PIXEL-M4), right-to-left word order, pairs with a black separator patch,
PIXEL-M4's overflow windows, offset mappings, and recognising the rendering of a renderer folder.

A rendering implements :meth:`StructuredRendering.row`: draw words from a patch onwards and say where they went.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pixel.render.encoding import Encoding
from pixel.render.stamps import Canvas

logger = logging.getLogger(__name__)

# Rendering name -> "module:class" of its implementation (None: the renderer's own continuous rendering).
RENDERINGS: dict[str, str | None] = {
    "continuous": None,
    "bigrams": "pixel.render.bigrams:BigramRendering",
    "words": "pixel.render.words:WordRendering",
    "mono": "pixel.render.mono:MonoRendering",
}
BIGRAM_UNITS = ("codepoint", "grapheme")
MONO_FONT_FILE = Path(__file__).resolve().parent / "fonts" / "NotoSansMono-Regular.ttf"

# Hub repositories whose renderer config does not say how they render (PIXEL-M4 writes the same
# ``text_renderer_type`` as the continuous renderer), recognised by name in a repo id or a local path
# (also Hugging Face cache folders such as ``models--Team-PIXEL--pixel-m4``).
_KNOWN_REPOS = re.compile(
    r"(?:^|[/\\-])pixel-m4(?:$|[/\\-])|pixel-(?:tiny|small|base|large)-(bigrams|words|mono|continuous)(?:$|[/\\-])",
    re.IGNORECASE,
)
_TYPE_NAMES = (("bigram", "bigrams"), ("mono", "mono"), ("word", "words"), ("continuous", "continuous"))


def check_rendering(rendering: object) -> str:
    if not isinstance(rendering, str) or rendering.lower() not in RENDERINGS:
        raise ValueError(f"unknown rendering {rendering!r}; choose one of {', '.join(RENDERINGS)}")
    return rendering.lower()


def check_bigram_unit(unit: object) -> str:
    if unit not in BIGRAM_UNITS:
        raise ValueError(
            f"bigram_unit must be 'codepoint' (PIXEL-M4, default) or 'grapheme' (whole grapheme clusters), "
            f"got {unit!r}"
        )
    return str(unit)


def check_rendering_options(rendering: object, bigram_unit: object) -> None:
    """ValueError for an unknown ``rendering`` or ``bigram_unit`` of a run's config (None: not given)."""
    if rendering is not None:
        check_rendering(rendering)
    if bigram_unit is not None:
        check_bigram_unit(bigram_unit)


def default_font(rendering: str) -> Path | None:
    """The font a rendering uses when none is given (None: the renderer's default)."""
    return MONO_FONT_FILE if rendering == "mono" else None


def implementation(renderer: Any) -> StructuredRendering:
    """The renderer's structured rendering object (built on first use and when its settings change)."""
    impl = renderer._structured_impl
    key = (renderer.rendering, renderer.bigram_unit)
    if impl is None or impl.key != key:
        module_name, class_name = RENDERINGS[renderer.rendering].split(":")
        impl = getattr(importlib.import_module(module_name), class_name)(renderer)
        impl.key = key
        renderer._structured_impl = impl
    return impl


def folder_rendering(
    config: dict[str, Any], name_or_path: str | os.PathLike[str], target: type, overrides: dict[str, Any]
) -> dict[str, Any]:
    """The config of a renderer folder with its ``rendering`` filled in, for building ``target``.

    Order: a ``rendering`` in the caller's ``overrides`` (the config is then left as it is), the config's own
    ``rendering`` (ours), a renderer type name that names one (e.g. ``PangoCairoBigramsRenderer``, the class
    of Lotz et al.'s code; PIXEL-M4 writes ``PangoCairoTextRenderer`` like the original), a known Hub repo name in ``name_or_path`` (``Team-PIXEL/pixel-m4`` and
    ``Team-PIXEL/pixel-*-{bigrams,words,mono,continuous}``); else continuous. A recognised, unrecorded
    rendering is logged. A class without renderings (PyGame) refuses a folder of a structured one.
    """
    if "rendering" in overrides:
        return config
    config = dict(config)
    rendering, reason = config.get("rendering"), "its config"
    if rendering is None:
        type_name = str(config.get("text_renderer_type") or "").lower()
        rendering = next((name for word, name in _TYPE_NAMES if word in type_name), None)
        reason = f"its text_renderer_type {config.get('text_renderer_type')!r}"
    if rendering is None:
        match = _KNOWN_REPOS.search(str(name_or_path))
        if match:
            rendering = match.group(1) or "bigrams"
            reason = f"the known repository name in {str(name_or_path)!r}"
    if rendering is None:
        return config
    rendering = check_rendering(rendering)
    if "rendering" not in config:
        logger.info("renderer folder %s: rendering=%r (recognised from %s)", name_or_path, rendering, reason)
    if "rendering" not in inspect.signature(target.__init__).parameters:
        if rendering != "continuous":
            raise ValueError(
                f"the renderer folder {name_or_path} uses rendering={rendering!r}, which {target.__name__} "
                "does not draw; load it with the PangoCairo backend"
            )
        config.pop("rendering", None)
        return config
    config["rendering"] = rendering
    return config


@dataclass
class Word:
    """A word to draw and where its characters are in the caller's text (None: a word-list item)."""

    text: str
    start: int | None = None


_NOT_SPACE = re.compile(r"\S+")  # \s is exactly str.isspace, so these are the words of text.split()


def split_words(text: str, offset: int = 0) -> list[Word]:
    """``text.split()`` (as PIXEL-M4) with each word's character offset in ``text`` (plus ``offset``)."""
    return [Word(m.group(), m.start() + offset) for m in _NOT_SPACE.finditer(text)]


def clipped_words(renderer: Any, text: str, rtl: bool, clip: bool = True) -> list[Word]:
    """The words of ``text`` that can possibly show, in the order they are drawn: a text longer than
    ``renderer.max_chars`` is cut (``clip``) to its start, or right to left (drawn last word first) to its end."""
    clipped = renderer.clip(text, from_end=rtl) if clip else text
    words = split_words(clipped, len(text) - len(clipped))
    return words[::-1] if rtl else words


@dataclass
class Row:
    """Words drawn from one patch onwards.

    end: first patch after the drawn words (may lie past the strip); word_starts: what ``Encoding.word_starts``
    reports for a text or word list; starts / full_end: start patch of every word and end patch when nothing
    is truncated (overflow windows); last: index of the last word kept; spans: per drawn word (its position,
    its character offset, ((position, length, char low, char high), ...) relative to both), for offset
    mappings; positions and lengths count in units of ``1 / unit`` patch (MONO: cells).
    """

    end: int
    word_starts: list[int]
    starts: list[int]
    full_end: int
    last: int
    spans: list[tuple[int, int, tuple[tuple[int, int, int, int], ...]]] = field(default_factory=list)
    unit: int = 1


class StructuredRendering:
    """Inputs, pairs and overflow windows of a structured rendering; subclasses implement :meth:`row`."""

    key: tuple[Any, ...] = ()

    def __init__(self, renderer: Any) -> None:
        """renderer: the PangoCairoTextRenderer that draws (its native handles and word cache)."""
        self.renderer = renderer
        self._native_seen: Any = None

    # ------------------------------------------------------------------------------ for subclasses
    def native(self) -> Any:
        """The renderer's native handles; caches are emptied when they are rebuilt (fork, new settings)."""
        native = self.renderer._native
        if native is not self._native_seen:
            self._native_seen = native
            self.reset()
        return native

    def reset(self) -> None:
        """Forget cached ink (the font settings changed)."""

    def row(
        self, canvas: Canvas, words: list[Word], start: int, max_length: int, rtl: bool, aligned: bool
    ) -> Row:
        """Draw ``words`` from patch ``start`` onwards, keeping to ``max_length`` patches from patch 0.

        rtl: the words are already in drawing order; the rendering reverses what it draws inside a word.
        aligned: word-list input (each word starts a patch in every rendering).
        """
        raise NotImplementedError

    # ---------------------------------------------------------------------------------- inputs
    def render_text(self, text: str, rtl: bool = False) -> Encoding:
        """Words of ``text``; right-to-left text (``rtl`` or by the renderer's vote) right to left."""
        rtl = rtl or self.renderer.is_rtl(" ".join(text.split()))
        return self._single(clipped_words(self.renderer, text, rtl), rtl, aligned=False)

    def render_words(self, words: list[str], rtl: bool = False) -> Encoding:
        """A word list, in its order (PIXEL-M4: direction only reverses what is drawn inside a word, so a word
        longer than the strip shows its end)."""
        rtl = rtl or self.renderer.is_rtl(" ".join(words))
        words = self.renderer.clip_words(words, lambda word: rtl)
        return self._single([Word(w) for w in words], rtl, aligned=True)

    def _single(self, words: list[Word], rtl: bool, aligned: bool) -> Encoding:
        r = self.renderer
        canvas = Canvas(r, self.native())
        row = self.row(canvas, words, 0, r.max_seq_length, rtl, aligned)
        eos = min(row.end, r.max_seq_length - 1)
        return Encoding(
            pixel_values=self._finish(canvas, [eos]),
            num_text_patches=eos,
            sep_patches=[eos],
            word_starts=row.word_starts,
            unrenderable_chars=canvas.unrenderable(),
        )

    def _finish(self, canvas: Canvas, black: list[int]) -> np.ndarray:
        image = canvas.image()
        return self.renderer._finish(image, black)

    def render_pair(
        self, text_a: str, text_b: str, offsets: bool, windows: bool, stride: int, a_max: int | None, rtl: bool
    ) -> Encoding:
        """text_a from patch 0, a black separator patch, text_b, a black end patch (PIXEL-M4's geometry).
        Called by ``PangoCairoTextRenderer.render_pair`` with its arguments: return_offset_mapping,
        return_overflowing_patches, stride, text_a_max_length, rtl.

        Right to left when ``rtl`` or when both texts vote right-to-left: both word lists reversed.
        ``offset_mapping``: per patch (char low, char high) of its text, (high, low) right to left, (0, 0)
        on separators and padding, (-1, -1) on a text patch without characters.
        """
        r = self.renderer
        length = r.max_seq_length
        rtl = rtl or (r.is_rtl(" ".join(text_a.split())) and r.is_rtl(" ".join(text_b.split())))
        words_a = clipped_words(r, text_a, rtl)
        words_b = clipped_words(r, text_b, rtl, clip=not windows)  # overflow windows go through all of text_b
        canvas = Canvas(r, self.native())
        row_a = self.row(canvas, words_a, 0, a_max or length, rtl, aligned=False)
        sep = min(row_a.end, length - 1)
        row_b = self.row(canvas, words_b, sep + 1, length, rtl, aligned=False)
        eos = min(row_b.end, length - 1)
        image = self._finish(canvas, [sep, eos])
        mapping = self._offsets(row_a, sep, row_b, sep + 1, eos, rtl) if offsets else None
        encoding = Encoding(
            pixel_values=image,
            num_text_patches=eos,
            sep_patches=[sep, eos],
            offset_mapping=mapping,
            sequence_ids=r._sequence_ids(sep, eos),
            unrenderable_chars=canvas.unrenderable(),
        )
        if windows:
            encoding.overflowing_patches = self._windows(
                image, row_a, sep, words_b, row_b, stride, rtl, mapping
            )
        return encoding

    # ------------------------------------------------------------------------------ overflow
    def _windows(
        self,
        image: np.ndarray,
        row_a: Row,
        sep: int,
        words_b: list[Word],
        row_b: Row,
        stride: int,
        rtl: bool,
        offsets: list[tuple[int, int]] | None,
    ) -> list[Encoding]:
        """PIXEL-M4's overflow windows: text_a and its separator repeated, then further words of text_b."""
        r = self.renderer
        length = r.max_seq_length
        ppp = r.pixels_per_patch
        ranges = window_word_ranges(row_b.starts, row_b.full_end, row_a.end, row_b.last, length, stride)
        copied = (row_a.end + 1) * ppp
        start = min(row_a.end + 1, length - 1)
        windows: list[Encoding] = []
        previous = image
        for first, last in ranges:
            canvas = Canvas(r, self.native())
            row = self.row(canvas, words_b[first : last + 1], start, length, rtl, aligned=False)
            eos = min(row.end, length - 1)
            window = self._finish(canvas, [sep, eos])
            window[:, :copied] = previous[:, :copied]
            previous = window
            windows.append(
                Encoding(
                    pixel_values=window,
                    num_text_patches=eos,
                    sep_patches=[sep, eos],
                    offset_mapping=None
                    if offsets is None
                    else self._offsets(row_a, sep, row, start, eos, rtl),
                    sequence_ids=r._sequence_ids(sep, eos),
                    unrenderable_chars=canvas.unrenderable(),
                )
            )
        return windows

    # ------------------------------------------------------------------------------ offsets
    def _offsets(
        self, row_a: Row, sep: int, row_b: Row, b_start: int, eos: int, rtl: bool
    ) -> list[tuple[int, int]]:
        """Per patch of the strip: the characters of the text drawn there (see :meth:`render_pair`)."""
        mapping: list[tuple[int, int]] = [(0, 0)] * self.renderer.max_seq_length
        for row, first, stop in ((row_a, 0, sep), (row_b, b_start, eos)):
            covered: dict[int, tuple[int, int]] = {}
            unit = row.unit
            for base, offset, spans in row.spans:
                for position, count, low, high in spans:
                    low, high = low + offset, high + offset
                    patch, patch_end = (base + position) // unit, -(-(base + position + count) // unit)
                    for p in range(max(patch, first), min(patch_end, stop)):
                        old = covered.get(p)
                        covered[p] = (low, high) if old is None else (min(old[0], low), max(old[1], high))
            for p in range(first, stop):
                low_high = covered.get(p)
                if low_high is None:
                    mapping[p] = (-1, -1)
                else:
                    mapping[p] = (low_high[1], low_high[0]) if rtl else low_high
        return mapping


def kept_words(ends: list[int], max_length: int, num_patches: int, limited: bool) -> int:
    """How many words a WORDS or MONO row keeps: words are drawn until one reaches the last patch of the strip
    (that one clipped, as the continuous word-list renderer); with a length limit (``limited``: text_a of a
    pair), only while they end within ``max_length`` patches. At least the first word is kept."""
    for index, end in enumerate(ends):
        if limited and index and end > max_length:
            return index
        if end >= num_patches - 1:
            return index + 1
    return len(ends)


def window_word_ranges(
    starts: list[int], full_end: int, a_end: int, last_drawn: int, num_patches: int, stride: int
) -> list[tuple[int, int]]:
    """Word index ranges (first, last) of PIXEL-M4's overflow windows over text_b.

    starts: start patch of every text_b word laid out untruncated after text_a; full_end: its end patch;
    a_end: end patch of text_a; last_drawn: last text_b word of the main window. PIXEL-M4's arithmetic,
    quirks included (a window holds about ``num_patches - a_end - 4`` patches of new text, windows restart
    ``stride`` patches before the previous end at the nearest word start, a last word that fits nowhere is
    lost); where the original crashed (a name used before assignment, an index past the last word) or could
    loop forever, this stops.
    """
    n = len(starts)
    limit = num_patches - 1
    if n < 2 or a_end + full_end <= limit or last_drawn >= n - 1:
        return []
    new_per_window = num_patches - (a_end + 4)

    def nearest_before(x: int) -> int:  # the original: the word whose start is closest to x, minus one
        return min(range(n), key=lambda i: abs(x - starts[i])) - 1

    def length(first: int, last: int) -> int:
        return starts[last + 1] - starts[first] + a_end + 2

    ranges: list[tuple[int, int]] = []
    end_last, start_last, end_new = last_drawn, -1, None
    while end_last < n - 1:
        start_new = nearest_before(starts[end_last] - stride)
        if start_new <= start_last:
            start_new = start_last + 1
            if start_new >= n:
                break
            if start_new == n - 2 and end_new is not None:
                if length(start_new, end_new) + full_end - starts[start_new] < limit:
                    ranges.append((start_new, n - 1))
                break  # else: the last word does not fit in a window and is lost
        end_new = nearest_before(starts[start_new] + new_per_window)
        while length(start_new, end_new) > limit:
            end_new = min(end_new - 1, end_last + 1)
            if end_new + 1 < 0:
                raise ValueError(
                    f"text_a takes {a_end} of {num_patches} patches: no room for overflow windows of text_b; "
                    "use a shorter text_a or text_a_max_length"
                )
        if end_new == n - 2:
            if length(start_new, end_new) + full_end - starts[end_new] > limit:
                end_new -= 1
            else:
                ranges.append((start_new, n - 1))
                break
        end_last, start_last = end_new, start_new
        if start_new <= end_new:
            ranges.append((start_new, end_new))
    return ranges
