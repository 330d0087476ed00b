"""pygame.freetype's single-line text layout, reproduced from cached glyphs (the same pixels, much faster).

pygame.freetype lays a string out with no kerning and no shaping; with hinting, every advance and bitmap
offset is a whole pixel. Glyph i sits at pen x_i (x_0 = 0, x_{i+1} = x_i + advance_i) with its bitmap's top-left
corner at (x_i + left_i, -top_i) (y down, baseline 0). The string's box:

* x: from the smallest ``x_i + left_i`` to the largest ``x_i + left_i + width_i`` over *all* glyphs (a glyph
  without ink counts as a point), and, when the last glyph has no ink (a trailing space), the final pen x;
* y: from the smallest ``-top_i`` to the largest ``-top_i + rows_i`` over all glyphs, plus the baseline
  after a trailing inkless glyph; ``rect.y`` = the largest ``top_i``;
* where two bitmaps overlap (combining marks), coverages a (earlier) and b (later) combine as
  ``a + b - floor(a * b / 255)``.

pygame re-rasterises every glyph on every call (about 20 us per character here), so this module asks pygame
once per character, composes runs of non-space characters once (runs repeat: Zipf's law) and lays strings
out with numpy. ``tests/render/test_pygame_layout.py`` checks it against pygame's own pipeline.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

_RUNS = re.compile(r" +|[^ ]+")
_RUN_CACHE_SIZE = 100_000


class Piece:
    """Glyphs laid out together (one character or a run), relative to its pen origin on the baseline.

    coverage: uint8 [rows, cols] ink of the inked glyphs, its top-left corner at (ink_left, -ink_top);
        None when no glyph has ink. paint: ``255 - coverage`` (black ink on white).
    min_x, max_x, min_y, max_y: the layout extent of the glyphs (y down), without the trailing-pen rule.
    top: largest glyph top (pygame's ``rect.y``); advance: pen advance; ends_blank: the last glyph has no ink.
    chars: the characters (recomposed one by one where pieces overlap).
    """

    __slots__ = (
        "coverage", "paint", "ink_left", "ink_top", "min_x", "max_x", "min_y", "max_y", "top", "advance",
        "ends_blank", "chars",
    )

    def __init__(
        self,
        coverage: np.ndarray | None,
        ink_left: int,
        ink_top: int,
        extent: tuple[int, int, int, int],
        top: int,
        advance: int,
        ends_blank: bool,
        chars: str,
    ) -> None:
        self.coverage = coverage
        self.paint = None if coverage is None else 255 - coverage
        self.ink_left = ink_left
        self.ink_top = ink_top
        self.min_x, self.max_x, self.min_y, self.max_y = extent
        self.top = top
        self.advance = advance
        self.ends_blank = ends_blank
        self.chars = chars


class StringLayout:
    """A laid-out string as pygame's ``get_rect`` sees it.

    placed: (piece, pen x) of every inked piece. left, width: the box's x extent (relative to the pen
    origin); min_y, height: its y extent (y down, baseline 0); top: pygame's ``rect.y``.
    """

    __slots__ = ("placed", "left", "width", "min_y", "height", "top")

    def __init__(
        self, placed: list[tuple[Piece, int]], left: int, width: int, min_y: int, height: int, top: int
    ) -> None:
        self.placed = placed
        self.left = left
        self.width = width
        self.min_y = min_y
        self.height = height
        self.top = top


def combine(old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """pygame's coverage where two bitmaps overlap: a + b - floor(a * b / 255); uint8 in, uint8 out."""
    a = old.astype(np.uint16)
    b = new.astype(np.uint16)
    return (a + b - a * b // 255).astype(np.uint8)


class _Extent:
    """Pieces laid one after another from pen 0: the inked ones with their pens, the layout extent (x over the
    glyph boxes, y down; without the trailing-blank rule), the largest top, the final pen, the last blank."""

    __slots__ = ("placed", "min_x", "max_x", "min_y", "max_y", "top", "pen", "ends_blank")

    def __init__(self, pieces: list[Piece]) -> None:
        placed = []
        min_x = min_y = 1 << 30
        max_x = max_y = top = -(1 << 30)
        pen = 0
        for piece in pieces:
            if pen + piece.min_x < min_x:
                min_x = pen + piece.min_x
            if pen + piece.max_x > max_x:
                max_x = pen + piece.max_x
            if piece.min_y < min_y:
                min_y = piece.min_y
            if piece.max_y > max_y:
                max_y = piece.max_y
            if piece.top > top:
                top = piece.top
            if piece.coverage is not None:
                placed.append((piece, pen))
            pen += piece.advance
        self.placed = placed
        self.min_x, self.max_x, self.min_y, self.max_y, self.top, self.pen = min_x, max_x, min_y, max_y, top, pen
        self.ends_blank = bool(pieces) and pieces[-1].ends_blank

    def box(self) -> tuple[int, int, int, int]:
        """(min_x, max_x, min_y, max_y) with pygame's trailing-blank rule: a blank last glyph adds the final pen."""
        min_x, max_x, min_y, max_y = self.min_x, self.max_x, self.min_y, self.max_y
        if self.ends_blank:
            if self.pen < min_x:
                min_x = self.pen
            elif self.pen > max_x:
                max_x = self.pen
            if 0 < min_y:
                min_y = 0
            elif 0 > max_y:
                max_y = 0
        return min_x, max_x, min_y, max_y


class PyGameLayout:
    """Glyph and run caches of one pygame.freetype font, and the layout and drawing of strings."""

    def __init__(self, font: Any) -> None:
        self.font = font
        self._glyphs: dict[str, Piece] = {}
        self._runs: dict[str, Piece] = {}
        self._layouts: dict[str, StringLayout] = {}
        # Characters whose advance is not a whole pixel (an unhinted font): strings holding one are laid
        # out by pygame itself, since its 26.6 pen positions would not add up like whole pixels.
        self._fractional: set[str] = set()

    def glyph(self, char: str) -> Piece:
        """One character as pygame draws it (the font's box glyph when the font lacks it)."""
        piece = self._glyphs.get(char)
        if piece is None:
            rect = self.font.get_rect(char)
            # Two copies are one advance wider than one copy, with or without ink.
            advance = self.font.get_rect(char + char).width - rect.width
            metrics = self.font.get_metrics(char)[0]
            if metrics is not None and metrics[4] != advance:
                self._fractional.add(char)
            if rect.width > 0 and rect.height > 0:
                buffer, (cols, rows) = self.font.render_raw(char)
                coverage = np.frombuffer(buffer, dtype=np.uint8).reshape(rows, cols)
                extent = (rect.x, rect.x + cols, -rect.y, rows - rect.y)
                piece = Piece(coverage, rect.x, rect.y, extent, rect.y, advance, False, char)
            else:
                extent = (rect.x, rect.x, -rect.y, -rect.y)
                piece = Piece(None, 0, 0, extent, rect.y, advance, True, char)
            self._glyphs[char] = piece
        return piece

    def run(self, chars: str) -> Piece:
        """A run of characters, composed glyph by glyph once and cached."""
        piece = self._runs.get(chars)
        if piece is None:
            piece = self.glyph(chars) if len(chars) == 1 else self._compose(chars)
            if len(self._runs) >= _RUN_CACHE_SIZE:
                self._runs.clear()
            self._runs[chars] = piece
        return piece

    def _compose(self, chars: str) -> Piece:
        extent = _Extent([self.glyph(char) for char in chars])
        bounds = (extent.min_x, extent.max_x, extent.min_y, extent.max_y)
        placed = extent.placed
        if not placed:
            return Piece(None, 0, 0, bounds, extent.top, extent.pen, extent.ends_blank, chars)
        ink_left = min(pen + glyph.ink_left for glyph, pen in placed)
        ink_right = max(pen + glyph.ink_left + glyph.coverage.shape[1] for glyph, pen in placed)
        ink_top = max(glyph.ink_top for glyph, _ in placed)
        ink_bottom = min(glyph.ink_top - glyph.coverage.shape[0] for glyph, _ in placed)
        coverage = np.zeros((ink_top - ink_bottom, ink_right - ink_left), dtype=np.uint8)
        drawn_right = -(1 << 30)
        for glyph, pen in placed:
            rows, cols = glyph.coverage.shape
            y0, x0 = ink_top - glyph.ink_top, pen + glyph.ink_left - ink_left
            if x0 < drawn_right:  # overlaps ink drawn before (combining marks)
                coverage[y0 : y0 + rows, x0 : x0 + cols] = combine(coverage[y0 : y0 + rows, x0 : x0 + cols], glyph.coverage)
            else:
                coverage[y0 : y0 + rows, x0 : x0 + cols] = glyph.coverage
            drawn_right = max(drawn_right, x0 + cols)
        return Piece(coverage, ink_left, ink_top, bounds, extent.top, extent.pen, extent.ends_blank, chars)

    def layout(self, text: str) -> StringLayout:
        """Lay ``text`` out: its box as pygame's ``get_rect`` gives it and the inked pieces with their pens."""
        if not text:
            return StringLayout([], 0, 0, 0, 0, 0)
        extent = _Extent([self.run(chars) for chars in _RUNS.findall(text)])
        if self._fractional and not self._fractional.isdisjoint(text):
            return self.layout_by_pygame(text)
        min_x, max_x, min_y, max_y = extent.box()
        return StringLayout(extent.placed, min_x, max_x - min_x, min_y, max_y - min_y, extent.top)

    def layout_by_pygame(self, text: str) -> StringLayout:
        """`layout` done by pygame on the whole string (slow; for glyphs with fractional advances)."""
        rect = self.font.get_rect(text)
        placed = []
        if rect.width > 0 and rect.height > 0:
            buffer, (cols, rows) = self.font.render_raw(text)
            coverage = np.frombuffer(buffer, dtype=np.uint8).reshape(rows, cols)
            piece = Piece(coverage, rect.x, rect.y, (rect.x, rect.x + cols, -rect.y, rows - rect.y), rect.y, 0, False, "")
            placed.append((piece, 0))
        return StringLayout(placed, rect.x, rect.width, -rect.y, rect.height, rect.y)

    def cached_layout(self, text: str) -> StringLayout:
        """`layout` of a short string that repeats (a word of a word list), cached."""
        layout = self._layouts.get(text)
        if layout is None:
            if len(self._layouts) >= _RUN_CACHE_SIZE:
                self._layouts.clear()
            layout = self._layouts[text] = self.layout(text)
        return layout

    def draw(self, canvas: np.ndarray, layout: StringLayout, x: int, y: int) -> None:
        """Blit ``layout`` onto the white ``canvas`` (uint8 [H, W]) with its box's top-left corner at (x, y),
        clipped to the canvas, as pygame's render + blit do (pixel = 255 - coverage, black ink)."""
        height, width = canvas.shape
        origin_x = x - layout.left  # canvas column of the pen origin
        baseline = y - layout.min_y  # canvas row of the baseline
        drawn_right = -(1 << 30)
        for piece, pen in layout.placed:
            x0 = origin_x + pen + piece.ink_left
            if x0 >= width:
                continue
            rows, cols = piece.coverage.shape
            x1 = x0 + cols
            y0 = baseline - piece.ink_top
            if x0 < drawn_right:
                self._draw_overlapping(canvas, piece, origin_x + pen, baseline)
            elif x0 >= 0 and x1 <= width and y0 >= 0 and y0 + rows <= height:
                canvas[y0 : y0 + rows, x0:x1] = piece.paint
            else:
                cx0, cx1 = max(x0, 0), min(x1, width)
                cy0, cy1 = max(y0, 0), min(y0 + rows, height)
                if cx1 > cx0 and cy1 > cy0:
                    canvas[cy0:cy1, cx0:cx1] = piece.paint[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
            if x1 > drawn_right:
                drawn_right = x1

    def _draw_overlapping(self, canvas: np.ndarray, piece: Piece, pen_x: int, baseline: int) -> None:
        """Draw a piece glyph by glyph, combining its coverage with the ink already on the canvas."""
        height, width = canvas.shape
        for char in piece.chars:
            glyph = self.glyph(char)
            if glyph.coverage is not None:
                x0, y0 = pen_x + glyph.ink_left, baseline - glyph.ink_top
                cx0, cx1 = max(x0, 0), min(x0 + glyph.coverage.shape[1], width)
                cy0, cy1 = max(y0, 0), min(y0 + glyph.coverage.shape[0], height)
                if cx1 > cx0 and cy1 > cy0:
                    ink = 255 - canvas[cy0:cy1, cx0:cx1]
                    ink = combine(ink, glyph.coverage[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0])
                    canvas[cy0:cy1, cx0:cx1] = 255 - ink
            pen_x += glyph.advance
