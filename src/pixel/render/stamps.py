"""Cached ink of structured renderings: stamps pasted at integer x instead of laying text out again.

A *glyph* is one Pango layout (a character, a grapheme cluster or a word) drawn alone by
``PangoCairoTextRenderer._cache_word``; a *stamp* is a sequence of stamps at fixed x offsets (a bigram, a word
made of bigrams or of monospaced cells) with their composited ink. Glyph positions are whole pixels, so the
ink of a layout drawn at integer x is the same bitmap shifted: pasting cached stamps gives the image that
drawing every layout with Pango gives (golden- and self-tested). Ink is kept inverted (uint8, 255 = blank).

Compositing is cairo's: a layout drawn over earlier ink is combined with the OVER operator
(:func:`over_inverted`). A stamp whose ink starts right of all earlier ink is copied (OVER onto blank
is a copy); one that overlaps earlier ink is replayed part by part, in drawing order, so that the result is
bit-exact even where three inks meet.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Stamp:
    """Ink [ppp, n] (inverted) starting ``shift`` px from the stamp's origin, and how it was drawn.

    width: the advance in px (what the rendering's geometry uses); text: the layout's text of a glyph;
    parts: (x, stamp) drawn in this order to make a combined stamp; missing: characters drawn as boxes.
    """

    width: int
    shift: int
    ink: np.ndarray
    text: str = ""
    parts: tuple[tuple[int, Stamp], ...] = ()
    missing: tuple[str, ...] = ()


class LRU:
    """A bounded mapping that forgets the least recently used entry."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[Any, Any] = OrderedDict()

    def get(self, key: Any) -> Any:
        entry = self.entries.get(key)
        if entry is not None:
            self.entries.move_to_end(key)
        return entry

    def put(self, key: Any, value: Any) -> Any:
        self.entries[key] = value
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return value


def glyph(renderer: Any, native: Any, text: str) -> Stamp:
    """``text`` laid out alone by one Pango layout, from the renderer's per-word bitmap cache."""
    width, shift, ink, missing = renderer._word_cache.get(text) or renderer._cache_word(native, text)
    return Stamp(width, shift, ink, text=text, missing=missing)


def combine(parts: list[tuple[int, Stamp]], width: int, height: int) -> Stamp:
    """One stamp of advance ``width`` from stamps drawn in order with their origins at the given x."""
    missing = tuple(char for _x, part in parts for char in part.missing)
    inked = [(x, part) for x, part in parts if part.ink.shape[1]]
    if not inked:
        return Stamp(width, 0, np.zeros((height, 0), dtype=np.uint8), parts=tuple(parts), missing=missing)
    left = min(x + part.shift for x, part in inked)
    right = max(x + part.shift + part.ink.shape[1] for x, part in inked)
    canvas = np.full((height, right - left), 255, dtype=np.uint8)
    ink_end = 0
    for x, part in inked:
        start = x + part.shift - left
        stop = start + part.ink.shape[1]
        if start >= ink_end:  # the common case, inlined: nothing drawn there yet
            canvas[:, start:stop] = part.ink
            ink_end = stop
        else:
            ink_end = paste(canvas, x - left, part, ink_end)
    return Stamp(width, left, canvas, parts=tuple(parts), missing=missing)


def composite(canvas: np.ndarray, start: int, ink: np.ndarray, ink_end: int) -> int:
    """Draw ``ink`` with its first column at canvas column ``start`` (clipped to the canvas): a copy where the
    canvas is blank (right of ``ink_end``), OVER elsewhere. Returns the new ink end."""
    stop = start + ink.shape[1]
    lo = max(start, 0)
    hi = min(stop, canvas.shape[1])
    if lo < hi:
        src = ink if lo == start and hi == stop else ink[:, lo - start : hi - start]
        if lo >= ink_end:
            canvas[:, lo:hi] = src
        else:
            canvas[:, lo:hi] = over_inverted(src, canvas[:, lo:hi])
    return max(ink_end, stop)


def paste(canvas: np.ndarray, x: int, item: Stamp, ink_end: int) -> int:
    """Draw a stamp with its origin at canvas column ``x``, bit-exact with drawing its glyphs in order."""
    start = x + item.shift
    if start >= ink_end or not item.parts:
        return composite(canvas, start, item.ink, ink_end)
    for dx, part in item.parts:
        if part.ink.shape[1]:
            ink_end = paste(canvas, x + dx, part, ink_end)
    return ink_end


def draw(native: Any, x: int, item: Stamp) -> None:
    """Draw a stamp's glyphs with Pango onto the native surface (its origin at x)."""
    if not item.parts:
        native.set_text(native.probe, item.text)
        _width, height = native.pixel_size(native.probe)
        native.show(native.probe, x, height)
    for dx, part in item.parts:
        draw(native, x + dx, part)


class Canvas:
    """One strip being drawn: cached stamps pasted into a grey image, or (RGB) every glyph drawn with Pango
    onto the renderer's surface, as the reference renderers do."""

    def __init__(self, renderer: Any, native: Any) -> None:
        self.native = native
        shape = (renderer.pixels_per_patch, renderer.max_pixels_len)
        self.pixels = None if renderer.rgb else np.full(shape, 255, dtype=np.uint8)
        self.ink_end = 0
        self.missing: list[str] = []

    def place(self, x: int, item: Stamp) -> None:
        if item.missing:
            self.missing.extend(item.missing)
        if self.pixels is not None:
            self.ink_end = paste(self.pixels, x, item, self.ink_end)
            return
        draw(self.native, x, item)

    def image(self) -> np.ndarray:
        """uint8 [ppp, W] grey or [ppp, W, 3] RGB (255 = background); the surface is blank again after."""
        return self.native.take_image() if self.pixels is None else self.pixels

    def unrenderable(self) -> list[str]:
        return list(dict.fromkeys(self.missing))


def over_inverted(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """cairo/pixman OVER of two A8 coverages given inverted (255 - coverage), returned inverted:
    coverage = s + d * (255 - s) / 255 with pixman's rounding."""
    s = 255 - src.astype(np.uint32)
    t = (255 - dst.astype(np.uint32)) * (255 - s) + 0x80
    return (255 - (s + ((t + (t >> 8)) >> 8))).astype(np.uint8)
