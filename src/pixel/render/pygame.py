"""PyGame (pygame.freetype) text renderer, image-identical to the original's `PyGameTextRenderer`.

This renderer made the pretraining images of pixel-base (rendered Wikipedia and BookCorpus). pygame.freetype
does no shaping, kerning, bidi or font fallback: characters missing from the font are drawn as the font's
box glyph and reported in `Encoding.unrenderable_chars`.

Geometry of the original (all in pixels; ``next_patch(x) = min(ceil(x / 16) * 16, W - 16)``):
* text: the string's ink box is drawn with its left edge at x = 2 and centred vertically
  (top = 8 - h // 2); the black end patch follows at ``next_patch(2 + w + 2)``.
* pair: text_a as above, a black patch at ``s = next_patch(2 + w_a + 2)``, text_b at ``s + 18``, the end
  patch at ``next_patch(s + 18 + w_b + 2)``.
* words: every word but the last is drawn as ``word + " "`` with its baseline at row ``pad_size + 8`` (11),
  starting at ``offset``; ``offset = next_patch(offset + w)``; the last word adds 2 px before snapping.
  Rendering stops once the offset reaches the last patch.
Pixels are ``255 - coverage`` (black ink on white, exactly what SDL's blend gives), black patches 0.
"""

from __future__ import annotations

import math
import os
from typing import Any, ClassVar

import numpy as np

from pixel.render.base import TextRenderer
from pixel.render.encoding import Encoding

# Words rasterised once per renderer and process (word lists follow Zipf's law); cleared when full.
_WORD_CACHE_SIZE = 50_000


def _import_freetype() -> Any:
    """Import pygame.freetype without pygame's greeting on stdout."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame.freetype

    return pygame.freetype


class _Glyphs:
    """A string rasterised by pygame.freetype, relative to its pen origin.

    coverage: uint8 [h, w] ink coverage of the string's box (empty when the box has no height).
    ascent: rows of the box above the baseline (pygame's ``rect.y``); width, height: the box (the width
    includes leading spaces and a trailing space's advance).
    """

    __slots__ = ("coverage", "ascent", "width", "height")

    def __init__(self, coverage: np.ndarray, ascent: int, width: int, height: int) -> None:
        self.coverage = coverage
        self.ascent = ascent
        self.width = width
        self.height = height


class PyGameTextRenderer(TextRenderer):
    """Renders text into a 16 px high strip with pygame.freetype, as the original PIXEL PyGame renderer.

    Settings as `TextRenderer`. Differences from PangoCairo: no fallback fonts (``fallback_fonts_dir`` must be
    None; missing characters become boxes, listed in ``Encoding.unrenderable_chars``), only black on white,
    and no offset mapping, overflow windows, ``text_a_max_length`` or RTL layout (ValueError).
    ``pad_size`` places the baseline of word-list mode at row ``pad_size + pixels_per_patch // 2``.

    Line breaks become spaces (`check_text`); the original drew them as box glyphs.
    """

    _transient: ClassVar[tuple[str, ...]] = ("_font", "_word_cache", "_char_has_glyph")

    def __init__(
        self,
        font_file: str | os.PathLike[str] | None = None,
        font_size: float = 8,
        dpi: float = 120,
        pixels_per_patch: int = 16,
        max_seq_length: int = 529,
        pad_size: int = 3,
        font_color: str = "black",
        background_color: str = "white",
        rgb: bool = False,
        fallback_fonts_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if fallback_fonts_dir is not None:
            raise ValueError(
                "PyGameTextRenderer uses only font_file (pygame.freetype has no font fallback); drop "
                "fallback_fonts_dir, or use PangoCairoTextRenderer for fallback fonts"
            )
        if (font_color, background_color) != ("black", "white"):
            raise ValueError(
                f"PyGameTextRenderer draws black on white only (got font_color={font_color!r}, "
                f"background_color={background_color!r}), the only setting the original models saw"
            )
        if isinstance(dpi, (int, float)) and dpi != int(dpi):
            raise ValueError(f"PyGameTextRenderer needs a whole-number dpi (pygame's resolution), got {dpi!r}")
        super().__init__(
            font_file, font_size, dpi, pixels_per_patch, max_seq_length, pad_size, font_color,
            background_color, rgb,
        )
        self._font: Any = None
        self._font_pid = -1
        self._load_font()  # fail early on a file that is not a font

    def _load_font(self) -> Any:
        """The pygame font of this process, built lazily (again after unpickling or in a forked child)."""
        if self._font is None or self._font_pid != os.getpid():
            freetype = _import_freetype()
            if not freetype.get_init():
                freetype.init()
            try:
                font = freetype.Font(self.font_file, self.font_size, resolution=int(self.dpi))
            except (OSError, ValueError) as err:
                raise ValueError(f"pygame cannot load the font file {self.font_file}: {err}") from err
            # The original's font state: no kerning, normal style, antialiased, no padding, box origin.
            font.kerning = False
            font.pad = False
            font.origin = False
            font.antialiased = True
            self._font, self._font_pid = font, os.getpid()
            self._word_cache: dict[str, _Glyphs] = {}
            self._char_has_glyph: dict[str, bool] = {}
        return self._font

    # --------------------------------------------------------------------------------------------- glyphs
    def _rasterise(self, text: str) -> _Glyphs:
        font = self._load_font()
        rect = font.get_rect(text)
        if rect.width > 0 and rect.height > 0:
            buffer, (width, height) = font.render_raw(text)
            coverage = np.frombuffer(buffer, dtype=np.uint8).reshape(height, width)
        else:
            coverage = np.zeros((0, 0), dtype=np.uint8)
        return _Glyphs(coverage, rect.y, rect.width, rect.height)

    def _rasterise_word(self, word: str) -> _Glyphs:
        self._load_font()
        glyphs = self._word_cache.get(word)
        if glyphs is None:
            if len(self._word_cache) >= _WORD_CACHE_SIZE:
                self._word_cache.clear()
            glyphs = self._word_cache[word] = self._rasterise(word)
        return glyphs

    def _missing_chars(self, texts: list[str]) -> list[str]:
        """Characters of ``texts`` that the font has no glyph for, in order of first appearance."""
        font = self._load_font()
        known = self._char_has_glyph
        missing: list[str] = []
        for text in texts:
            for char in set(text).difference(known):
                known[char] = font.get_metrics(char)[0] is not None
            missing.extend(c for c in dict.fromkeys(text) if not known[c] and c not in missing)
        return missing

    @staticmethod
    def _paste(canvas: np.ndarray, glyphs: _Glyphs, x: int, top: int) -> None:
        """Draw ``glyphs`` with its box's top-left corner at (x, top), clipped to the canvas (255 - coverage)."""
        height, width = glyphs.coverage.shape
        y0, y1 = max(top, 0), min(top + height, canvas.shape[0])
        x0, x1 = max(x, 0), min(x + width, canvas.shape[1])
        if y1 > y0 and x1 > x0:
            canvas[y0:y1, x0:x1] = 255 - glyphs.coverage[y0 - top : y1 - top, x0 - x : x1 - x]

    def _paste_centred(self, canvas: np.ndarray, text: str, x: int) -> int:
        """Draw ``text`` with its ink box left edge at x, centred vertically; returns the box width."""
        glyphs = self._rasterise(text)
        self._paste(canvas, glyphs, x, self.pixels_per_patch // 2 - glyphs.height // 2)
        return glyphs.width

    def _empty_canvas(self) -> np.ndarray:
        return np.full((self.pixels_per_patch, self.max_pixels_len), 255, dtype=np.uint8)

    def _encoding(
        self, canvas: np.ndarray, sep_offsets: list[int], num_text_patches: int, texts: list[str], **fields: Any
    ) -> Encoding:
        """Black patches at ``sep_offsets`` (pixels), channels for rgb, characters the font lacks."""
        ppp = self.pixels_per_patch
        for offset in sep_offsets:
            canvas[:, offset : offset + ppp] = 0
        pixel_values = np.repeat(canvas[:, :, None], 3, axis=2) if self.rgb else canvas
        return Encoding(
            pixel_values=pixel_values,
            num_text_patches=num_text_patches,
            sep_patches=[offset // ppp for offset in sep_offsets],
            unrenderable_chars=self._missing_chars(texts),
            **fields,
        )

    # ---------------------------------------------------------------------------------------------- modes
    def render_text(self, text: str, rtl: bool = False) -> Encoding:
        """One text (sentence or paragraph) -> Encoding; text beyond the strip is clipped."""
        _reject_rtl(rtl)
        canvas = self._empty_canvas()
        width = self._paste_centred(canvas, text, 2)
        end = self.next_patch(2 + width + 2)
        return self._encoding(canvas, [end], end // self.pixels_per_patch, [text])

    def render_pair(
        self,
        text_a: str,
        text_b: str,
        return_offset_mapping: bool = False,
        return_overflowing_patches: bool = False,
        stride: int = 0,
        text_a_max_length: int | None = None,
        rtl: bool = False,
    ) -> Encoding:
        """text_a, black patch, text_b, black end patch -> Encoding with ``sequence_ids`` per patch.

        ``num_text_patches`` counts the middle black patch (as the original); ``sequence_ids`` are 0 on
        text_a's patches, 1 on text_b's, None on separators and padding.
        """
        if return_offset_mapping or return_overflowing_patches or stride or text_a_max_length is not None:
            raise ValueError(
                "PyGameTextRenderer renders pairs without offset mapping, overflow windows, stride or "
                "text_a_max_length (the original had none); use PangoCairoTextRenderer for these"
            )
        _reject_rtl(rtl)
        ppp = self.pixels_per_patch
        canvas = self._empty_canvas()
        width_a = self._paste_centred(canvas, text_a, 2)
        sep = self.next_patch(2 + width_a + 2)
        start_b = sep + ppp + 2
        width_b = self._paste_centred(canvas, text_b, start_b)
        end = self.next_patch(start_b + width_b + 2)
        sep_patch, end_patch = sep // ppp, end // ppp
        sequence_ids: list[int | None] = [None] * self.max_seq_length
        sequence_ids[:sep_patch] = [0] * sep_patch
        sequence_ids[sep_patch + 1 : end_patch] = [1] * max(end_patch - sep_patch - 1, 0)
        return self._encoding(canvas, [sep, end], end_patch, [text_a, text_b], sequence_ids=sequence_ids)

    def render_words(self, words: list[str], rtl: bool = False) -> Encoding:
        """One word per item -> Encoding with ``word_starts`` (patch of each drawn word, then the end patch).

        Each word after the first starts on a patch boundary; words after the one that reaches the last
        patch are dropped (``len(word_starts) - 1`` words were drawn).
        """
        _reject_rtl(rtl)
        if not words:
            raise ValueError("the word list is empty: give at least one word (a list of str)")
        ppp = self.pixels_per_patch
        last_patch = self.max_pixels_len - ppp
        baseline = self.pad_size + ppp // 2
        canvas = self._empty_canvas()
        offset = 2
        word_starts = [0]
        drawn: list[str] = []
        for index, word in enumerate(words):
            is_last = index == len(words) - 1
            glyphs = self._rasterise_word(word if is_last else word + " ")
            self._paste(canvas, glyphs, offset, baseline - glyphs.ascent)
            offset = self.next_patch(offset + glyphs.width + (2 if is_last else 0))
            word_starts.append(math.ceil(offset / ppp))
            drawn.append(word)
            if offset == last_patch:
                break
        return self._encoding(canvas, [offset], math.ceil(offset / ppp), drawn, word_starts=word_starts)


def _reject_rtl(rtl: bool) -> None:
    if rtl:
        raise ValueError(
            "PyGameTextRenderer has no right-to-left layout (pygame.freetype does no bidi); use "
            "PangoCairoTextRenderer for rtl=True"
        )
