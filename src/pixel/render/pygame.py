"""PyGame (pygame.freetype) text renderer, image-identical to the original's `PyGameTextRenderer`.

This renderer made the pretraining images of pixel-base (rendered Wikipedia and BookCorpus). pygame.freetype
does no shaping, kerning, bidi or font fallback: characters missing from the font are drawn as the font's
box glyph and reported in `Encoding.unrenderable_chars`. Strings are laid out by `pixel.render.pygame_layout`,
which gives pygame's pixels from cached glyphs (pygame itself re-rasterises every glyph of every call).

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

import os
from typing import Any, ClassVar

import numpy as np

from pixel.render.base import TextRenderer, check_count
from pixel.render.encoding import Encoding
from pixel.render.pygame_layout import PyGameLayout


def _import_freetype() -> Any:
    """Import pygame.freetype without pygame's greeting on stdout."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame.freetype

    return pygame.freetype


class PyGameTextRenderer(TextRenderer):
    """Renders text into a 16 px high strip with pygame.freetype, as the original PIXEL PyGame renderer.

    Settings: those of `TextRenderer`, and the original's PyGame-only ``pad_size``, ``font_color`` and
    ``background_color``. Differences from PangoCairo: no fallback fonts (``fallback_fonts_dir`` must be None;
    missing characters become boxes, listed in ``Encoding.unrenderable_chars``), only black on white, and no
    offset mapping, overflow windows, ``text_a_max_length`` or RTL layout (ValueError).
    ``pad_size`` places the baseline of word-list mode at row ``pad_size + pixels_per_patch // 2``.

    Line breaks become spaces (`check_text`); the original drew them as box glyphs. Inputs longer than
    ``max_chars`` characters are cut to their start first (`TextRenderer.clip`): nothing beyond can show.
    """

    _transient: ClassVar[tuple[str, ...]] = ("_font", "_layout", "_checked_chars", "_missing")

    def __init__(
        self,
        font_file: str | os.PathLike[str] | None = None,
        *,
        pad_size: int = 3,
        font_color: str = "black",
        background_color: str = "white",
        **settings: Any,
    ) -> None:
        if settings.get("fallback_fonts_dir") is not None:
            raise ValueError(
                "PyGameTextRenderer uses only font_file (pygame.freetype has no font fallback); drop "
                "fallback_fonts_dir, or use PangoCairoTextRenderer for fallback fonts"
            )
        if (font_color, background_color) != ("black", "white"):
            raise ValueError(
                f"PyGameTextRenderer draws black on white only (got font_color={font_color!r}, "
                f"background_color={background_color!r}), the only setting the original models saw"
            )
        dpi = settings.get("dpi")
        if isinstance(dpi, (int, float)) and dpi != int(dpi):
            raise ValueError(f"PyGameTextRenderer needs a whole-number dpi (pygame's resolution), got {dpi!r}")
        check_count("pad_size", pad_size, 0)
        super().__init__(font_file, **settings)
        self.pad_size = int(pad_size)
        self.font_color = font_color
        self.background_color = background_color
        self._font: Any = None
        self._font_key: tuple[Any, ...] = ()
        self._load_font()  # fail early on a file that is not a font

    def _load_font(self) -> Any:
        """The pygame font of this process, built lazily: again after unpickling, in a forked child, or when a
        font setting changed after construction (the original's ``from_pretrained`` set overrides that way)."""
        key = (os.getpid(), self.font_file, self.font_size, self.dpi)
        if self._font is None or self._font_key != key:
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
            self._font, self._font_key = font, key
            self._layout = PyGameLayout(font)
            self._checked_chars: set[str] = set()
            self._missing: set[str] = set()
        return self._font

    # --------------------------------------------------------------------------------------------- glyphs
    def _engine(self) -> PyGameLayout:
        """The layout engine of this process's font."""
        self._load_font()
        return self._layout

    def _missing_chars(self, texts: list[str]) -> list[str]:
        """Characters of ``texts`` that the font has no glyph for, in order of first appearance."""
        font = self._load_font()
        chars = set().union(*texts)
        unknown = chars.difference(self._checked_chars)
        if unknown:
            self._checked_chars.update(unknown)
            self._missing.update(char for char in unknown if font.get_metrics(char)[0] is None)
        missing = chars & self._missing
        if not missing:
            return []
        return [char for char in dict.fromkeys("".join(texts)) if char in missing]

    def _draw_centred(self, canvas: np.ndarray, text: str, x: int) -> int:
        """Draw ``text`` with its box's left edge at x, the box centred vertically; returns the box width."""
        engine = self._engine()
        layout = engine.layout(text)
        engine.draw(canvas, layout, x, self.pixels_per_patch // 2 - layout.height // 2)
        return layout.width

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
        text = self.clip(text)
        canvas = self._empty_canvas()
        width = self._draw_centred(canvas, text, 2)
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
        text_a, text_b = self.clip(text_a), self.clip(text_b)
        ppp = self.pixels_per_patch
        canvas = self._empty_canvas()
        width_a = self._draw_centred(canvas, text_a, 2)
        sep = self.next_patch(2 + width_a + 2)
        start_b = sep + ppp + 2
        width_b = self._draw_centred(canvas, text_b, start_b)
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
        words = self.clip_words(words)
        ppp = self.pixels_per_patch
        last_patch = self.max_pixels_len - ppp
        baseline = self.pad_size + ppp // 2
        engine = self._engine()
        canvas = self._empty_canvas()
        offset = 2
        word_starts = [0]
        drawn: list[str] = []
        for index, word in enumerate(words):
            is_last = index == len(words) - 1
            layout = engine.cached_layout(word if is_last else word + " ")
            engine.draw(canvas, layout, offset, baseline - layout.top)
            offset = self.next_patch(offset + layout.width + (2 if is_last else 0))  # a patch boundary
            word_starts.append(offset // ppp)
            drawn.append(word)
            if offset == last_patch:
                break
        return self._encoding(canvas, [offset], offset // ppp, drawn, word_starts=word_starts)


def _reject_rtl(rtl: bool) -> None:
    if rtl:
        raise ValueError(
            "PyGameTextRenderer has no right-to-left layout (pygame.freetype does no bidi); use "
            "PangoCairoTextRenderer for rtl=True"
        )
