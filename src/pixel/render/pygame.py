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
from pathlib import Path
from typing import Any

import numpy as np

from pixel.render.encoding import Encoding

_UNSUPPORTED_OPTIONS = ("return_offset_mapping", "return_overflowing_patches", "stride", "text_a_max_length", "rtl")
# pygame.freetype reports these as having no glyph; they are drawn as the font's box glyph.
_WORD_CACHE_SIZE = 50_000


def _import_freetype() -> Any:
    """Import pygame.freetype without pygame's greeting on stdout."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame.freetype

    return pygame.freetype


class _Glyphs:
    """A string rasterised by pygame.freetype, relative to its pen origin.

    coverage: uint8 [h, w] ink coverage of the string's box (empty when the box has no height).
    ascent: rows of the box above the baseline (pygame's ``rect.y``); width: box width in pixels (includes
    leading spaces and a trailing space's advance).
    """

    __slots__ = ("coverage", "ascent", "width", "height")

    def __init__(self, coverage: np.ndarray, ascent: int, width: int, height: int) -> None:
        self.coverage = coverage
        self.ascent = ascent
        self.width = width
        self.height = height


class PyGameTextRenderer:
    """Renders text into a 16 px high strip with pygame.freetype, as the original PIXEL PyGame renderer.

    Args:
        font_file: a TrueType/OpenType font file (the original used GoNotoCurrent.ttf; golden tests use
            Noto Sans Regular). No fallback fonts: pygame.freetype draws missing characters as boxes.
        font_size: size in points (8); with ``dpi`` 120 the em is 13.33 px.
        dpi: resolution used to scale ``font_size``.
        pixels_per_patch: patch side (16); the strip is ``pixels_per_patch`` px high.
        max_seq_length: patches per strip (529); strip width W = 16 * max_seq_length.
        pad_size: top padding of word-list mode (the baseline sits at row ``pad_size + 8``).
        font_color / background_color: only ``"black"`` on ``"white"`` (the original's only setting) is
            supported.
        rgb: return ``[16, W, 3]`` (three equal channels) instead of grey ``[16, W]``.

    Call with a ``str`` (one text), a ``(text_a, text_b)`` tuple (pair) or a ``list[str]`` (one word per item).
    Returns an `Encoding` with uint8 ``pixel_values`` ``[16, W]`` (or ``[16, W, 3]``).
    """

    def __init__(
        self,
        font_file: str | os.PathLike[str],
        font_size: int = 8,
        dpi: int = 120,
        pixels_per_patch: int = 16,
        max_seq_length: int = 529,
        pad_size: int = 3,
        font_color: str = "black",
        background_color: str = "white",
        rgb: bool = False,
        **ignored: Any,
    ) -> None:
        font_path = Path(font_file)
        if not font_path.is_file():
            raise FileNotFoundError(
                f"font file not found: {str(font_file)!r}; pass an existing .ttf/.otf file as font_file"
            )
        if (font_color, background_color) != ("black", "white"):
            raise ValueError(
                f"PyGameTextRenderer draws only black on white (got font_color={font_color!r}, "
                f"background_color={background_color!r}); the original models were trained on black on white"
            )
        if pixels_per_patch < 1 or max_seq_length < 2:
            raise ValueError(
                f"need pixels_per_patch >= 1 and max_seq_length >= 2 (got {pixels_per_patch}, {max_seq_length})"
            )
        self.font_file = str(font_file)
        self.font_size = font_size
        self.dpi = dpi
        self.pixels_per_patch = pixels_per_patch
        self.max_seq_length = max_seq_length
        self.pad_size = pad_size
        self.font_color = font_color
        self.background_color = background_color
        self.rgb = rgb
        self._reset_font()
        self._load_font()  # fail early on a file that is not a font

    # ----------------------------------------------------------------------------------------------- font
    def _reset_font(self) -> None:
        self._font: Any = None
        self._font_pid = -1
        self._word_cache: dict[str, _Glyphs] = {}
        self._char_has_glyph: dict[str, bool] = {}

    def _load_font(self) -> Any:
        """The pygame font of this process (built lazily, rebuilt after a fork or unpickling)."""
        if self._font is None or self._font_pid != os.getpid():
            freetype = _import_freetype()
            if not freetype.get_init():
                freetype.init()
            try:
                font = freetype.Font(self.font_file, self.font_size, resolution=self.dpi)
            except (OSError, ValueError) as err:
                raise ValueError(f"cannot load font file {self.font_file!r}: {err}") from err
            # The original's state after load_font(): no kerning, normal style, antialiased, no padding.
            font.kerning = False
            font.pad = False
            font.origin = False
            font.antialiased = True
            self._reset_font()
            self._font, self._font_pid = font, os.getpid()
        return self._font

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.update(_font=None, _font_pid=-1, _word_cache={}, _char_has_glyph={})
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    # ------------------------------------------------------------------------------------------ geometry
    @property
    def max_pixels_len(self) -> int:
        """Strip width W in pixels."""
        return self.max_seq_length * self.pixels_per_patch

    def next_patch(self, x: int) -> int:
        """Left edge of the first patch at or after pixel x, never beyond the last patch."""
        ppp = self.pixels_per_patch
        return min(math.ceil(x / ppp) * ppp, self.max_pixels_len - ppp)

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

    def _encoding(self, canvas: np.ndarray, sep_offsets: list[int], num_text_patches: int, texts: list[str],
                  **fields: Any) -> Encoding:
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
    def render_text(self, text: str) -> Encoding:
        """One text (sentence or paragraph) -> Encoding; text beyond the strip is clipped."""
        canvas = self._empty_canvas()
        width = self._paste_centred(canvas, text, 2)
        end = self.next_patch(2 + width + 2)
        return self._encoding(canvas, [end], math.ceil(end / self.pixels_per_patch), [text])

    def render_pair(self, text_a: str, text_b: str) -> Encoding:
        """Two texts separated by a black patch -> Encoding with ``sequence_ids`` (0, 1 or None per patch)."""
        ppp = self.pixels_per_patch
        canvas = self._empty_canvas()
        width_a = self._paste_centred(canvas, text_a, 2)
        sep = self.next_patch(2 + width_a + 2)
        start_b = sep + ppp + 2
        width_b = self._paste_centred(canvas, text_b, start_b)
        end = self.next_patch(start_b + width_b + 2)
        sequence_ids: list[int | None] = [None] * self.max_seq_length
        sequence_ids[: sep // ppp] = [0] * (sep // ppp)
        sequence_ids[sep // ppp + 1 : end // ppp] = [1] * max(end // ppp - sep // ppp - 1, 0)
        return self._encoding(
            canvas, [sep, end], math.ceil(end / ppp), [text_a, text_b], sequence_ids=sequence_ids
        )

    def render_words(self, words: list[str]) -> Encoding:
        """One word per item -> Encoding with ``word_starts`` (patch index of each drawn word + final end).

        Words that do not fit are dropped (the last drawn word reaches the last patch).
        """
        if not words:
            raise ValueError("render_words got an empty word list; pass at least one word (it may be '')")
        ppp = self.pixels_per_patch
        last_patch = self.max_pixels_len - ppp
        baseline = self.pad_size + ppp // 2
        canvas = self._empty_canvas()
        offset = 2
        word_starts = [0]
        drawn: list[str] = []
        for index, word in enumerate(words):
            is_last = index == len(words) - 1
            text = word if is_last else word + " "
            glyphs = self._rasterise_word(text)
            self._paste(canvas, glyphs, offset, baseline - glyphs.ascent)
            offset = self.next_patch(offset + glyphs.width + (2 if is_last else 0))
            word_starts.append(math.ceil(offset / ppp))
            drawn.append(word)
            if offset == last_patch:
                break
        return self._encoding(canvas, [offset], math.ceil(offset / ppp), drawn, word_starts=word_starts)

    def __call__(self, text: str | tuple[str, str] | list[str], **options: Any) -> Encoding:
        """Render a ``str``, a ``(text_a, text_b)`` pair or a ``list[str]`` of words."""
        unsupported = [name for name in _UNSUPPORTED_OPTIONS if options.get(name)]
        unknown = sorted(set(options) - set(_UNSUPPORTED_OPTIONS))
        if unsupported or unknown:
            raise ValueError(
                f"PyGameTextRenderer does not support {', '.join(unsupported + unknown)}: the original PyGame "
                "renderer has no offset mapping, overflow windows, truncation or RTL layout; use "
                "PangoCairoTextRenderer for these"
            )
        if isinstance(text, str):
            return self.render_text(_checked(text, "text"))
        if isinstance(text, tuple):
            if len(text) != 2:
                raise ValueError(f"a text pair must have 2 items, got a tuple of {len(text)}")
            return self.render_pair(_checked(text[0], "text_a"), _checked(text[1], "text_b"))
        if isinstance(text, list):
            return self.render_words([_checked(word, f"words[{i}]") for i, word in enumerate(text)])
        raise TypeError(
            f"PyGameTextRenderer renders str, tuple[str, str] or list[str], got {type(text).__name__}"
        )


def _checked(text: Any, name: str) -> str:
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a str, got {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ValueError(
            f"{name} contains an invalid character at index {err.start} (a lone surrogate, "
            f"{text[err.start]!r}); decode the text with errors='replace' first"
        ) from None
    return text
