"""PangoCairo renderer: HarfBuzz shaping, bidi and font fallback; image-for-image the original's renderer.

Bindings: ``pangocffi`` / ``pangocairocffi`` / ``cairocffi`` (cffi in ABI mode over the system's libpango,
libcairo and libfontconfig). Chosen over PyGObject + pycairo because they install from wheels without a
compiler or GObject-introspection headers (PyGObject > 3.50 does not even build against Debian 12's GLib),
and because they call the very same C functions, so the images are pixel-identical to the original's. They
also let us bind a private fontconfig configuration to a Pango font map (see :mod:`pixel.render.fonts`);
fontconfig's C types are outside GObject introspection. ``manimpango`` and ``fontTools`` are not needed.

Geometry (all in pixels, ``ppp`` = pixels_per_patch, ``W`` = image width), as in the original:
text starts at x = 2; each layout is drawn at y = ppp/2 - h/2 - 2 with h its logical height; the black end
patch sits at ``next_patch(x_end + 2)``; pairs put a black separator patch after text_a and start text_b 2 px
after it; in word lists every word after the first starts on a patch boundary.
"""

from __future__ import annotations

import math
import os
import string
from typing import Any, ClassVar

import numpy as np

from pixel.render import fonts, structured
from pixel.render.base import PANGO_MAX_PIXELS, TextRenderer, blacken_patches
from pixel.render.encoding import Encoding
from pixel.render.stamps import composite

_NOT_LETTERS = str.maketrans("", "", string.whitespace + string.punctuation + string.digits)
_WORD_CACHE_SIZE = 50_000
_WORD_MARGIN = 48  # px of room around a cached word for ink outside its logical box
_CAIRO_MAX_SIZE = 32767  # px: the largest side of a cairo image surface
# Overflow windows lay text_b out whole: at up to 4 em per character its width stays below Pango's limit.
_OVERFLOW_CHAR_EM = 4


class _Native:
    """Per-process Pango/cairo handles of one renderer: surface, contexts, layouts (rebuilt after fork)."""

    def __init__(self, renderer: PangoCairoTextRenderer) -> None:
        import cairocffi
        import pangocairocffi
        import pangocffi

        self.key: tuple[Any, ...] = ()
        self.ffi = pangocairocffi.ffi
        self.pango = pangocffi.pango
        self.pangocairo = pangocairocffi.pangocairo
        self.cairo = cairocffi.cairo
        gobject = self.pangocffi_gobject = pangocffi.gobject
        ffi = self.ffi

        main_font = renderer.font_file
        if renderer.use_system_fonts:
            extra = fonts.font_files_in(renderer.fallback_fonts_dir) if renderer.fallback_fonts_dir else []
            self.font_map = fonts.system_font_map(main_font, extra)
        else:
            self.font_map = fonts.hermetic_font_map(
                main_font, fonts.fallback_font_files(renderer.fallback_fonts_dir)
            )

        # The original's description string, e.g. "Noto Sans 13.333333333333332px" (an absolute size).
        family = fonts.family_name(main_font)
        description = f"{family} {renderer.font_pixel_size}px"
        self.font = ffi.gc(
            self.pango.pango_font_description_from_string(description.encode()),
            self.pango.pango_font_description_free,
        )

        self.width = renderer.max_pixels_len
        self.height = renderer.pixels_per_patch
        self.rgb = renderer.rgb
        fmt = cairocffi.FORMAT_RGB24 if self.rgb else cairocffi.FORMAT_A8
        self.surface = cairocffi.ImageSurface(fmt, self.width, self.height)
        self.context = cairocffi.Context(self.surface)
        self.surface_pointer = self.surface._pointer
        self.context_pointer = self.context._pointer
        self.cr = ffi.cast("cairo_t *", self.context._pointer)
        self.pixels = self._view(self.surface)
        self.operators = (cairocffi.OPERATOR_CLEAR, cairocffi.OPERATOR_OVER)

        def pango_context(rtl: bool) -> Any:
            ctx = ffi.gc(self.pango.pango_font_map_create_context(self.font_map), gobject.g_object_unref)
            self.pangocairo.pango_cairo_update_context(self.cr, ctx)
            self.pango.pango_context_set_font_description(ctx, self.font)
            if not renderer.use_system_fonts:
                # Hermetic renders must not depend on the locale either (it steers fallback and CJK forms).
                self.pango.pango_context_set_language(ctx, self.pango.pango_language_from_string(b"en"))
            if rtl:
                self.pango.pango_context_set_base_dir(ctx, self.pango.PANGO_DIRECTION_RTL)
            return ctx

        def layout(ctx: Any) -> Any:
            return ffi.gc(self.pango.pango_layout_new(ctx), gobject.g_object_unref)

        self.ltr_context = pango_context(rtl=False)
        self._check_main_font(renderer.font_file)
        self.rtl_context = pango_context(rtl=True)
        self.ltr = layout(self.ltr_context)
        self.rtl = layout(self.rtl_context)
        self.pango.pango_layout_set_auto_dir(self.rtl, 0)
        self.pango.pango_layout_set_alignment(self.rtl, self.pango.PANGO_ALIGN_RIGHT)
        # The original measured truncated RTL text with a layout left at Pango's defaults.
        self.rtl_plain = layout(self.rtl_context)
        self.probe = layout(self.ltr_context)
        self.size = ffi.new("int[2]")
        self.rect = ffi.new("PangoRectangle *")
        self.scratch: tuple[Any, Any, Any, np.ndarray] | None = None
        self.clear()

    def _check_main_font(self, font_file: str) -> None:
        """Fail, instead of silently drawing with another font, when Pango does not pick the main font."""
        font = self.pango.pango_context_load_font(self.ltr_context, self.font)
        chosen = ""
        if font != self.ffi.NULL:
            description = self.pango.pango_font_describe(font)
            chosen = self.ffi.string(self.pango.pango_font_description_get_family(description)).decode()
            self.pango.pango_font_description_free(description)
            self.pangocffi_gobject.g_object_unref(font)
        # Compare with the family Pango parsed from the description (trailing style words such as
        # "Condensed" become attributes there, as in the original).
        requested = self.ffi.string(self.pango.pango_font_description_get_family(self.font)).decode()
        if chosen.casefold() != requested.casefold():
            raise RuntimeError(
                f"Pango does not use the font file {font_file} (family {requested!r}) but {chosen!r}; "
                "fontconfig could not load it, or another installed font has the same family name"
            )

    def _view(self, surface: Any) -> np.ndarray:
        """Writable numpy view of a surface's pixels: [h, W] (A8) or [h, W, 4] (RGB24, bytes B G R X)."""
        surface.flush()
        data = np.frombuffer(surface.get_data(), dtype=np.uint8)
        stride = surface.get_stride()
        height = surface.get_height()
        width = surface.get_width()
        if surface.get_format() == 2:  # FORMAT_A8
            return data.reshape(height, stride)[:, :width]
        return data.reshape(height, stride // 4, 4)[:, :width]

    def clear(self) -> None:
        """Blank surface: alpha 0 (A8) or white (RGB24), source black."""
        if self.rgb:
            self.pixels.fill(255)
            self.cairo.cairo_surface_mark_dirty(self.surface_pointer)
            self.cairo.cairo_set_source_rgb(self.context_pointer, 0.0, 0.0, 0.0)
            return
        # cairo's own CLEAR (a memset) rather than numpy: cairo then knows the surface is clear and draws the
        # next glyphs onto it faster (a strip: ~100 -> ~80 us, benchmarks/render.py). Marked dirty first: cairo
        # skips a CLEAR of a surface it believes clear, and some drawing leaves that belief standing (a few
        # thousand colour emoji in one layout did: the next strip showed their ink).
        clear, over = self.operators
        self.cairo.cairo_surface_mark_dirty(self.surface_pointer)
        self.cairo.cairo_set_operator(self.context_pointer, clear)
        self.cairo.cairo_paint(self.context_pointer)
        self.cairo.cairo_set_operator(self.context_pointer, over)

    def set_text(self, layout: Any, text: str) -> None:
        data = text.encode("utf-8")
        self.pango.pango_layout_set_text(layout, data, len(data))

    def pixel_size(self, layout: Any) -> tuple[int, int]:
        self.pango.pango_layout_get_pixel_size(layout, self.size, self.size + 1)
        return self.size[0], self.size[1]

    def show(self, layout: Any, x: float, height: int, cr: Any = None) -> None:
        """Draw the layout with its top-left corner at (x, ppp/2 - height/2 - 2)."""
        if cr is None:
            cr = self.cr
        self.cairo.cairo_move_to(cr, x, self.height / 2.0 - height / 2.0 - 2)
        self.pangocairo.pango_cairo_show_layout(cr, layout)

    def take_image(self) -> np.ndarray:
        """The drawn image (uint8 [h, W] grey, ink 0, or [h, W, 3] RGB), then a blank surface."""
        self.cairo.cairo_surface_flush(self.surface_pointer)
        image = np.ascontiguousarray(self.pixels[:, :, 2::-1]) if self.rgb else np.invert(self.pixels)
        self.clear()
        return image

    def unknown_glyphs(self, layout: Any) -> int:
        return self.pango.pango_layout_get_unknown_glyphs_count(layout)

    def unrenderable(self, text: str) -> list[str]:
        """Characters of ``text`` that Pango draws as unknown-glyph boxes (checked one by one)."""
        found = []
        for char in dict.fromkeys(text):
            if char.isspace():
                continue
            self.set_text(self.probe, char)
            if self.unknown_glyphs(self.probe) > 0:
                found.append(char)
        return found

    def scratch_surface(self, width: int) -> tuple[Any, Any, np.ndarray]:
        """An A8 surface at least ``width`` px wide for caching word bitmaps (blank on return)."""
        import cairocffi

        if self.scratch is None or self.scratch[0].get_width() < width:
            surface = cairocffi.ImageSurface(cairocffi.FORMAT_A8, max(width, 512), self.height)
            context = cairocffi.Context(surface)
            self.scratch = (
                surface,
                context,
                self.ffi.cast("cairo_t *", context._pointer),
                self._view(surface),
            )
        surface, _context, cr, view = self.scratch
        view.fill(0)
        surface.mark_dirty()
        return surface, cr, view


class PangoCairoTextRenderer(TextRenderer):
    """Renders text with Pango and cairo into a strip of patches.

    Args:
        font_file, **settings: those of :class:`TextRenderer` (font_size, dpi, pixels_per_patch,
            max_seq_length, rgb, fallback_fonts_dir).
        use_system_fonts: False (default): hermetic, Pango sees only ``font_file`` and the fallback fonts
            (``fallback_fonts_dir`` or :data:`pixel.render.fonts.DEFAULT_FALLBACK_FONTS`), so a render is the
            same on every machine with those files. True: like the original, ``font_file`` is added to the
            process-wide fontconfig configuration and any installed font may fill in missing characters.
        rendering: "continuous" (default: the original PIXEL rendering), "bigrams" (PIXEL-M4: two characters
            per patch, each pair at a patch start), "words" (each word starts a patch) or "mono" (a monospaced
            font, two characters per patch; default font Noto Sans Mono). See :mod:`pixel.render.structured`.
        bigram_unit: what "bigrams" pairs: "codepoint" (default, PIXEL-M4) or "grapheme" (extended grapheme
            clusters stay whole).

    Differences from the original (documented fixes): every line break ("\\n", "\\r", ...) becomes a space
    (the original replaced only "\\n"); with ``text_a_max_length`` the separator follows the *truncated*
    text_a; an empty word list raises ValueError; overflow windows list only their own separators;
    ``sep_patches`` are patch indices; ``sequence_ids`` are filled for pairs; characters no font can draw are
    listed in ``Encoding.unrenderable_chars``; texts and words longer than ``max_chars`` characters are cut to
    what can show before layout (:meth:`clip_layout`; the original laid a megabyte out, crashed on words of
    ~4,700 characters and reported one text patch for texts of 300,000).
    """

    _transient: ClassVar[tuple[str, ...]] = ("_native_handles", "_word_cache", "_structured_impl")

    def __init__(
        self,
        font_file: str | os.PathLike[str] | None = None,
        *,
        use_system_fonts: bool = False,
        rendering: str = "continuous",
        bigram_unit: str = "codepoint",
        **settings: Any,
    ) -> None:
        rendering = structured.check_rendering(rendering)
        super().__init__(structured.default_font(rendering) if font_file is None else font_file, **settings)
        if self.max_pixels_len > _CAIRO_MAX_SIZE:
            raise ValueError(
                f"a strip of {self.max_seq_length} patches of {self.pixels_per_patch} px is {self.max_pixels_len} px "
                f"wide; cairo draws at most {_CAIRO_MAX_SIZE} px: use max_seq_length <= "
                f"{_CAIRO_MAX_SIZE // self.pixels_per_patch}"
            )
        self.use_system_fonts = bool(use_system_fonts)
        self.rendering = rendering
        self.bigram_unit = structured.check_bigram_unit(bigram_unit)
        self._structured_impl: structured.StructuredRendering | None = None
        fonts.family_name(self.font_file)  # fail now, naming the file, if it is not a font
        self._native_handles: _Native | None = None
        self._word_cache: dict[str, tuple[int, int, np.ndarray, tuple[str, ...]]] | None = None

    def _native_key(self) -> tuple[Any, ...]:
        """What the native handles depend on: the process and every setting that shapes the surface or fonts
        (the original let ``from_pretrained`` overrides change settings after construction)."""
        return (
            os.getpid(),
            self.font_file,
            self.font_size,
            self.dpi,
            self.pixels_per_patch,
            self.max_seq_length,
            self.rgb,
            self.fallback_fonts_dir,
            self.use_system_fonts,
        )

    @property
    def _native(self) -> _Native:
        native = self._native_handles
        key = self._native_key()
        if native is None or native.key != key:
            native = self._native_handles = _Native(self)
            native.key = key
            self._word_cache = {}
        return native

    # -------------------------------------------------------------------------------------------- helpers
    def is_rtl(self, text: str) -> bool:
        """Majority vote (2 of 3) of Pango's direction of the first, middle and last letter, ignoring
        whitespace, ASCII punctuation and digits (the original's rule)."""
        if text.isascii():  # no ASCII character is right-to-left
            return False
        letters = text.translate(_NOT_LETTERS)
        if not letters:
            return False
        pango = self._native.pango
        rtl = pango.PANGO_DIRECTION_RTL
        votes = sum(
            pango.pango_unichar_direction(ord(c)) == rtl
            for c in (letters[0], letters[-1], letters[len(letters) // 2])
        )
        return votes >= 2

    def starts_rtl(self, text: str) -> bool:
        """Whether Pango lays ``text`` out right to left by itself (its first strong character is RTL)."""
        pango = self._native.pango
        data = text.encode("utf-8")
        return pango.pango_find_base_dir(data, len(data)) == pango.PANGO_DIRECTION_RTL

    def clip_layout(self, text: str, prefix: bool = False, rtl: bool = False) -> str:
        """``text`` cut to :attr:`max_chars` as a layout shows it: the start of a layout truncated to a prefix
        (``prefix``), else the end of a right-to-left one (``rtl``, or a text Pango lays out right to left)."""
        if len(text) <= self.max_chars:
            return text
        return self.clip(text, from_end=not prefix and (rtl or self.starts_rtl(text)))

    def check_overflow_text(self, text_b: str) -> None:
        """Overflow windows need all of text_b laid out: refuse one too long for that (ValueError)."""
        limit = int(PANGO_MAX_PIXELS / (_OVERFLOW_CHAR_EM * self.font_pixel_size))
        if len(text_b) > limit:
            raise ValueError(
                f"text_b has {len(text_b):,} characters; overflow windows (return_overflowing_patches) take at most "
                f"{limit:,}: split the text into passages first"
            )

    def _finish(self, image: np.ndarray, sep_patches: list[int]) -> np.ndarray:
        blacken_patches(image, sep_patches, self.pixels_per_patch)
        return image

    def _draw_sentence(
        self, text: str, x: int, unknown: list[str], max_length: int | None = None, rtl: bool = False
    ) -> tuple[Any, int, Any, int]:
        """Lay out and draw one sentence at x, truncated to ``max_length`` patches if given.

        Returns (full layout, full width, drawn layout, drawn width); the drawn layout differs from the full
        one only after truncation (then it holds the text the original's binary search stopped at).
        """
        native = self._native
        layout = native.rtl if rtl else native.ltr
        native.set_text(layout, text)
        if native.unknown_glyphs(layout):
            unknown.extend(native.unrenderable(text))
        width, height = native.pixel_size(layout)
        drawn, drawn_width = layout, width
        if max_length is not None and self.patches_to(x + width) > max_length:
            drawn = native.rtl_plain if rtl else native.probe
            lo, hi = 0, len(text)
            while lo <= hi:
                mid = (lo + hi) // 2
                native.set_text(drawn, text[:mid])
                drawn_width, height = native.pixel_size(drawn)
                patches = self.patches_to(x + drawn_width)
                if patches < max_length:
                    lo = mid + 1
                elif patches > max_length:
                    hi = mid - 1
                else:
                    break
        native.show(drawn, x, height)
        return layout, width, drawn, drawn_width

    # ----------------------------------------------------------------------------------------- text mode
    def render_text(self, text: str, rtl: bool = False) -> Encoding:
        """One text at x = 2, black end patch after it. ``rtl`` is accepted and ignored, as in the original
        (Pango's bidi algorithm orders RTL runs by itself)."""
        if self.rendering != "continuous":
            return structured.implementation(self).render_text(text, rtl)
        native = self._native
        unknown: list[str] = []
        _layout, width, _drawn, _drawn_width = self._draw_sentence(self.clip_layout(text), 2, unknown)
        eos = self.next_patch(2 + width + 2)
        sep = [eos // self.pixels_per_patch]
        image = self._finish(native.take_image(), sep)
        return Encoding(
            pixel_values=image, num_text_patches=sep[0], sep_patches=sep, unrenderable_chars=unknown
        )

    # ----------------------------------------------------------------------------------------- word mode
    def render_words(self, words: list[str], rtl: bool = False) -> Encoding:
        """Every word but the last is drawn as "<word> "; each next word starts on a patch boundary.
        Words that do not fit are dropped. ``word_starts`` has one entry per drawn word plus the end patch.

        Grey renders paste cached per-word bitmaps (words follow Zipf's law, so most are cache hits); a word
        drawn at a patch boundary is an integer shift of the same word drawn anywhere else, so the image is
        the same as drawing every word with Pango (golden-tested). Where inks overlap we composite like cairo.
        """
        if self.rendering != "continuous":
            return structured.implementation(self).render_words(words, rtl)
        if rtl:
            raise ValueError(
                "rtl=True is not supported for word lists (the original ignored it); leave it False"
            )
        words = self.clip_words(words, self.starts_rtl)
        native = self._native
        next_patch = self.next_patch
        ppp = self.pixels_per_patch
        width_px = self.max_pixels_len
        last_x = width_px - ppp
        cached = not self.rgb
        cache = self._word_cache if cached else None
        image = np.full((ppp, width_px), 255, dtype=np.uint8) if cached else None
        drawn: list[tuple[str, int]] = []
        unknown: list[str] = []
        word_starts = [0]
        offset = 2
        ink_end = 0
        final = len(words) - 1
        for i, word in enumerate(words):
            piece = word if i == final else word + " "
            if cached:
                entry = cache.get(piece) or self._cache_word(native, piece)
                width, shift, bitmap, missing = entry
                if missing:
                    unknown.extend(missing)
                ink_end = composite(image, offset + shift, bitmap, ink_end)
            else:
                width = self._measure(native, piece)
                drawn.append((piece, offset))
            if i == final:
                offset += 2
            offset = next_patch(offset + width)  # a patch boundary from here on
            word_starts.append(offset // ppp)
            if i != final and offset == last_x:
                break
        if not cached:
            image = self._draw_words(native, drawn, unknown)
        sep = [offset // ppp]
        self._finish(image, sep)
        return Encoding(
            pixel_values=image,
            num_text_patches=offset // ppp,
            sep_patches=sep,
            word_starts=word_starts,
            unrenderable_chars=list(dict.fromkeys(unknown)),
        )

    @staticmethod
    def _measure(native: _Native, text: str) -> int:
        native.set_text(native.probe, text)
        return native.pixel_size(native.probe)[0]

    @staticmethod
    def _draw_words(native: _Native, drawn: list[tuple[str, int]], unknown: list[str]) -> np.ndarray:
        for piece, x in drawn:
            native.set_text(native.ltr, piece)
            if native.unknown_glyphs(native.ltr):
                unknown.extend(native.unrenderable(piece))
            _width, height = native.pixel_size(native.ltr)
            native.show(native.ltr, x, height)
        return native.take_image()

    def _cache_word(self, native: _Native, piece: str) -> tuple[int, int, np.ndarray, tuple[str, ...]]:
        """Draw one word alone and cache (logical width, first ink column relative to the origin,
        inverted ink bitmap uint8 [ppp, n] (255 = blank), unrenderable characters)."""
        layout = native.ltr
        native.set_text(layout, piece)
        missing = tuple(native.unrenderable(piece)) if native.unknown_glyphs(layout) else ()
        width, height = native.pixel_size(layout)
        # Ink right of the strip never shows: the scratch surface is at most a strip wide (and a valid cairo size).
        surface, cr, view = native.scratch_surface(min(width, self.max_pixels_len) + 2 * _WORD_MARGIN)
        native.show(layout, _WORD_MARGIN, height, cr=cr)
        surface.flush()
        columns = np.flatnonzero(view.any(axis=0))
        if columns.size:
            first, last = int(columns[0]), int(columns[-1]) + 1
            bitmap = np.subtract(255, view[:, first:last], dtype=np.uint8)
        else:
            first, bitmap = _WORD_MARGIN, np.zeros((self.pixels_per_patch, 0), dtype=np.uint8)
        entry = (width, first - _WORD_MARGIN, bitmap, missing)
        cache = self._word_cache
        if len(cache) >= _WORD_CACHE_SIZE:
            cache.clear()
        cache[piece] = entry
        return entry

    # ----------------------------------------------------------------------------------------- pair mode
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
        """text_a, black separator, text_b, black end patch. Right-to-left geometry when ``rtl`` or when both
        texts are RTL by :meth:`is_rtl`. Offsets and overflow windows (QA) as in the original;
        ``overflowing_patches`` is a list when requested (empty when text_b fits; the original gave None).
        Texts longer than :attr:`max_chars` are cut first (:meth:`clip_layout`); text_b with overflow windows
        is not, and :meth:`check_overflow_text` bounds it."""
        if return_overflowing_patches:
            self.check_overflow_text(text_b)
        if self.rendering != "continuous":
            return structured.implementation(self).render_pair(
                text_a,
                text_b,
                return_offset_mapping,
                return_overflowing_patches,
                stride,
                text_a_max_length,
                rtl,
            )
        rtl = rtl or (self.is_rtl(text_a) and self.is_rtl(text_b))
        text_a = self.clip_layout(text_a, prefix=text_a_max_length is not None, rtl=rtl)
        if not return_overflowing_patches:
            text_b = self.clip_layout(text_b, prefix=rtl)
        ppp = self.pixels_per_patch
        W = self.max_pixels_len
        native = self._native
        unknown: list[str] = []

        _full_a, _width_a, drawn_a, drawn_width_a = self._draw_sentence(
            text_a, 2, unknown, max_length=text_a_max_length, rtl=rtl
        )
        # Fix: the separator follows what was drawn (the original used the untruncated width).
        map_a = self._offset_mapping(drawn_a, 2, drawn_width_a + 2, 0, rtl) if return_offset_mapping else None
        sep_x = self.next_patch(2 + drawn_width_a + 2)
        b_x = sep_x + ppp + 2
        b_max = self.patch_at(W - ppp) if rtl else None
        full_b, width_b, drawn_b, _drawn_width_b = self._draw_sentence(
            text_b, b_x, unknown, max_length=b_max, rtl=rtl
        )
        map_b_full = map_b = None
        if return_offset_mapping:
            map_b_full = self._offset_mapping(full_b, b_x, width_b + 2, b_x - 2, rtl)
            map_b = (
                self._offset_mapping(drawn_b, b_x, width_b + 2, b_x - 2, rtl)
                if drawn_b is not full_b
                else map_b_full
            )
        eos_x = self.next_patch(b_x + width_b + 2)
        sep = [sep_x // ppp, eos_x // ppp]
        image = self._finish(native.take_image(), sep)
        encoding = Encoding(
            pixel_values=image,
            num_text_patches=self.patch_at(eos_x),
            sep_patches=sep,
            offset_mapping=self._pad_offsets(map_a + [(0, 0)] + map_b) if map_a is not None else None,
            sequence_ids=self._sequence_ids(sep[0], sep[1]),
            unrenderable_chars=list(dict.fromkeys(unknown)),
        )
        if return_overflowing_patches:
            encoding.overflowing_patches = self._overflow_windows(
                text_b, image, map_a, map_b_full, sep_x, b_x, width_b, stride, rtl
            )
        return encoding

    def _sequence_ids(self, sep_index: int, eos_index: int) -> list[int | None]:
        """Per patch: 0 for text_a, None for the separator, 1 for text_b, None from the end patch on."""
        b_patches = max(eos_index - sep_index - 1, 0)
        tail = self.max_seq_length - sep_index - 1 - b_patches
        return [0] * sep_index + [None] + [1] * b_patches + [None] * tail

    def _pad_offsets(self, mapping: list[tuple[int, int]]) -> list[tuple[int, int]]:
        length = self.max_seq_length
        if len(mapping) >= length:
            return mapping[: length - 1] + [(0, 0)]
        return mapping + [(0, 0)] * (length - len(mapping))

    def _overflow_windows(
        self,
        text_b: str,
        image: np.ndarray,
        map_a: list[tuple[int, int]],
        map_b: list[tuple[int, int]],
        sep_x: int,
        b_x: int,
        width_b: int,
        stride: int,
        rtl: bool,
    ) -> list[Encoding]:
        """Further windows over the rest of text_b, each repeating text_a and ``stride`` patches of overlap."""
        ppp = self.pixels_per_patch
        W = self.max_pixels_len
        native = self._native
        pixel_overflow = b_x + width_b - (W - ppp)
        if pixel_overflow <= 0:
            return []
        patch_overflow = self.patches_to(pixel_overflow)
        room = W - ppp - (sep_x + ppp + stride * ppp)
        if room <= 0:
            raise ValueError(
                f"stride={stride} leaves no room for new text in an overflow window: text_a and the separator "
                f"take {sep_x // ppp + 1} of {self.max_seq_length} patches; use a smaller stride or text_a_max_length"
            )
        copy_columns = (sep_x // ppp + 1) * ppp
        b_start = sep_x + ppp + 2
        windows: list[Encoding] = []
        previous = image
        for _ in range(math.ceil(pixel_overflow / room)):
            if pixel_overflow <= 0:
                break
            unknown: list[str] = []
            if rtl:
                char_index = map_b[min(patch_overflow + stride, len(map_b) - 1)][1]
            else:
                char_index = map_b[max(-patch_overflow - stride, -len(map_b))][0]
            remainder = text_b[char_index:]
            _full, width, _drawn, _dw = self._draw_sentence(
                remainder, b_start, unknown, max_length=self.patch_at(W - ppp) if rtl else None, rtl=rtl
            )
            eos_x = self.next_patch(b_start + width + 2)
            real_width = min(2 + width, W - ppp - b_start)
            if rtl:
                end = patch_overflow + stride
                start = max(0, end - self.patch_at(real_width))
                window_map = map_b[start : end + 1]
                patch_overflow = start
                pixel_overflow = patch_overflow * ppp
            else:
                start = -patch_overflow - stride
                end: int | None = -patch_overflow + self.patch_at(real_width)
                if end is not None and end > -1:
                    end = None
                window_map = map_b[start:end]
                pixel_overflow = b_start + width - (W - ppp)
                patch_overflow = self.patches_to(pixel_overflow)
            sep = [sep_x // ppp, eos_x // ppp]
            window = self._finish(native.take_image(), sep)
            window[:, :copy_columns] = previous[:, :copy_columns]
            previous = window
            windows.append(
                Encoding(
                    pixel_values=window,
                    num_text_patches=self.patch_at(eos_x),
                    sep_patches=sep,
                    offset_mapping=self._pad_offsets(map_a + [(0, 0)] + window_map),
                    sequence_ids=self._sequence_ids(sep[0], sep[1]),
                    unrenderable_chars=list(dict.fromkeys(unknown)),
                )
            )
        return windows

    # ------------------------------------------------------------------------------------ offset mapping
    def _offset_mapping(
        self, layout: Any, offset: int, text_width: int, text_shift: int, rtl: bool
    ) -> list[tuple[int, int]]:
        """(char_start, char_end) per patch covered by one drawn text, by the original's algorithm: character
        and grapheme-cluster start positions from the layout, patches closed where positions cross a patch
        boundary, and a (-1, -1) entry when a whole blank patch precedes the separator."""
        native = self._native
        pango = native.pango
        rect = native.rect
        char_positions = []
        it = pango.pango_layout_get_iter(layout)
        try:
            while True:
                pango.pango_layout_iter_get_char_extents(it, rect)
                char_positions.append(rect.x / 1024 + offset)
                if not pango.pango_layout_iter_next_char(it):
                    break
        finally:
            pango.pango_layout_iter_free(it)
        cluster_positions = []
        it = pango.pango_layout_get_iter(layout)
        try:
            while True:
                pango.pango_layout_iter_get_cluster_extents(it, native.ffi.NULL, rect)
                cluster_positions.append(rect.x / 1024 + offset)
                if not pango.pango_layout_iter_next_cluster(it):
                    break
        finally:
            pango.pango_layout_iter_free(it)

        if len(char_positions) != len(cluster_positions):
            positions = []
            k = 0
            for char_x in char_positions:
                if k == len(cluster_positions) or char_x != cluster_positions[k]:
                    positions.append(cluster_positions[k - 1])
                else:
                    positions.append(char_x)
                    k += 1
        else:
            positions = char_positions

        text_length = pango.pango_layout_get_character_count(layout)
        ppp = self.pixels_per_patch
        blank_patch = self.next_patch(text_width) - text_width < offset - self.previous_patch(offset)
        positions.append(self.next_patch(text_width + offset))

        mapping: list[tuple[int, int]] = []
        start = 0
        for k, x in enumerate(positions):
            boundary = ppp * (len(mapping) + 1)
            if x - text_shift >= boundary:
                end = k if x - text_shift == boundary else k - 1
                mapping.append((text_length - start, text_length - end) if rtl else (start, end))
                start = end
        if len(mapping) < self.patches_to(text_width + offset - text_shift):
            mapping.append((text_length - start, 0) if rtl else (start, len(positions)))
        if rtl:  # mirrored indices of the line end would be -1 (the original returned those)
            mapping = [(max(a, 0), max(b, 0)) for a, b in mapping]
        if blank_patch and len(mapping) >= 2:  # (the original crashed with fewer entries)
            mapping[-2] = (mapping[-2][0], mapping[-1][1])
            mapping[-1] = (-1, -1)
        return mapping
