"""What every text renderer shares: settings, patch geometry, input checks and call dispatch.

A renderer turns text into one row of square patches: an image of ``pixels_per_patch`` rows and
``pixels_per_patch * max_seq_length`` columns (16 x 8464 by default). Backends (PangoCairo, PyGame) subclass
:class:`TextRenderer`, declare only their own settings (``def __init__(self, font_file=None, *, mine=...,
**settings)``) and implement ``render_text``, ``render_pair`` and ``render_words``. Renderer folders (saving,
loading, the registry of backends) live in :mod:`pixel.render.folder`.

Nothing here imports a drawing library, so ``import pixel.render.base`` stays light.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from pixel.render import folder
from pixel.render.encoding import Encoding

DEFAULT_FONT_FILE = Path(__file__).resolve().parent / "fonts" / "NotoSans-Regular.ttf"

# Characters that would start a new line. The strip has exactly one line, so each becomes one space
# (one for one, so that character offsets into the caller's string stay valid). The original replaced only "\n".
LINE_BREAKS = "\n\r\x0b\x0c\x85\u2028\u2029"
_LINE_BREAKS_TO_SPACE = str.maketrans(dict.fromkeys(LINE_BREAKS, " "))
_LINE_BREAK = re.compile(f"[{LINE_BREAKS}]")

# Long inputs are cut before layout to what can possibly show in the strip: no character that draws anything is
# narrower than 1/16 em, so CHARS_PER_EM characters per em of strip width are more than the strip can hold
# (laying out a megabyte to draw 529 patches would take seconds, and Pango's widths are int32 in 1/1024 px).
CHARS_PER_EM = 16
# Widest advance assumed for one character (em) when bounding a layout's width below Pango's int32 limit
# (2**31 units of 1/1024 px).
WIDEST_CHAR_EM = 8
PANGO_MAX_PIXELS = 2**31 // 1024


def check_text(text: object, what: str = "text") -> str:
    """Return ``text`` with line breaks replaced by spaces; reject what cannot be rendered.

    Raises TypeError when ``text`` is not a str, ValueError when it holds a lone surrogate or a NUL
    character (neither can be passed to the text layout engines as UTF-8).
    """
    if not isinstance(text, str):
        raise TypeError(f"{what} must be a str, got {type(text).__name__}: {text!r:.80}")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as err:
            char = text[err.start]
            if "\udc80" <= char <= "\udcff":  # Python's stand-in for a byte it could not decode
                raise ValueError(
                    f"{what} is not UTF-8: byte {ord(char) - 0xDC00:#04x} at character {err.start} could not be "
                    "decoded; convert the input to UTF-8 first (e.g. iconv -f LATIN1 -t UTF-8, naming its encoding)"
                ) from None
            raise ValueError(
                f"{what} contains a lone surrogate {char!r} at index {err.start}; it is not valid "
                "Unicode text (decode the source with errors='replace' or remove it)"
            ) from None
    nul = text.find("\x00")
    if nul >= 0:
        raise ValueError(f"{what} contains a NUL character at index {nul}; remove it before rendering")
    if _LINE_BREAK.search(text) is None:
        return text
    return text.translate(_LINE_BREAKS_TO_SPACE)


def check_words(words: list[object]) -> list[str]:
    """:func:`check_text` for every word of a list (one pass over the joined words when all are fine)."""
    for index, word in enumerate(words):
        if not isinstance(word, str):
            raise TypeError(f"word {index} must be a str, got {type(word).__name__}: {word!r:.80}")
    joined = "".join(words)  # type: ignore[arg-type]
    try:
        joined.encode("utf-8")
        clean = "\x00" not in joined
    except UnicodeEncodeError:
        clean = False
    if not clean:
        for index, word in enumerate(words):
            check_text(word, f"word {index}")
    if _LINE_BREAK.search(joined) is None:
        return list(words)  # type: ignore[arg-type]
    return [word.translate(_LINE_BREAKS_TO_SPACE) for word in words]  # type: ignore[union-attr]


def check_count(name: str, value: object, least: int) -> None:
    """Raise ValueError unless ``value`` is an integer (not a bool) >= ``least``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")


def blacken_patches(pixel_values: np.ndarray, patch_indices: list[int], pixels_per_patch: int) -> None:
    """Paint the given patches black (0) in place. pixel_values: uint8 [ppp, W] or [ppp, W, 3]."""
    for index in patch_indices:
        pixel_values[:, index * pixels_per_patch : (index + 1) * pixels_per_patch] = 0


class TextRenderer:
    """Settings and geometry shared by all renderers; subclasses draw.

    Args:
        font_file: main font (.ttf/.otf/.ttc). None: the Noto Sans Regular shipped with pixel.
        font_size: size in points; the pixel size is ``dpi / 72 * font_size`` (13.33 px by default).
        dpi: dots per inch used to convert points to pixels.
        pixels_per_patch: patch side in pixels (= image height).
        max_seq_length: number of patches in the strip (image width = pixels_per_patch * max_seq_length).
        rgb: return uint8 [ppp, W, 3] instead of grey [ppp, W].
        fallback_fonts_dir: folder of further .ttf/.otf/.ttc fonts for characters the main font lacks.

    Subclasses add their own settings as keyword arguments of their ``__init__`` (stored as attributes of the
    same name, so that renderer folders keep them) and implement ``render_text``, ``render_pair`` and
    ``render_words``; an option they do not support raises ValueError. Attributes named in ``_transient`` hold
    native handles: they are dropped when pickling (DataLoader workers) and must be rebuilt lazily.
    """

    _transient: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        font_file: str | os.PathLike[str] | None = None,
        *,
        font_size: float = 8,
        dpi: float = 120,
        pixels_per_patch: int = 16,
        max_seq_length: int = 529,
        rgb: bool = False,
        fallback_fonts_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        font_path = Path(DEFAULT_FONT_FILE if font_file is None else font_file).expanduser()
        if not font_path.is_file():
            raise FileNotFoundError(
                f"font file not found: {font_path} (give font_file= the path of a .ttf/.otf file)"
            )
        if fallback_fonts_dir is not None and not Path(fallback_fonts_dir).is_dir():
            raise FileNotFoundError(f"fallback_fonts_dir is not a folder: {fallback_fonts_dir}")
        for name, value in (("font_size", font_size), ("dpi", dpi)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        check_count("pixels_per_patch", pixels_per_patch, 1)
        check_count("max_seq_length", max_seq_length, 2)
        self.font_file = str(font_path)
        self.font_size = font_size
        self.dpi = dpi
        self.pixels_per_patch = int(pixels_per_patch)
        self.max_seq_length = int(max_seq_length)
        self.rgb = bool(rgb)
        self.fallback_fonts_dir = None if fallback_fonts_dir is None else str(fallback_fonts_dir)

    # ----------------------------------------------------------------------------------------- geometry
    @property
    def max_pixels_len(self) -> int:
        """Image width in pixels: pixels_per_patch * max_seq_length."""
        return self.pixels_per_patch * self.max_seq_length

    @property
    def font_pixel_size(self) -> float:
        """Font size in pixels (dpi / 72 * font_size)."""
        return self.dpi / 72 * self.font_size

    def patches_to(self, x: float) -> int:
        """Number of patches that pixels [0, x) reach into: ceil(x / pixels_per_patch), the one rounding to a
        patch of all renderers (``next_patch`` is built on it)."""
        return math.ceil(x / self.pixels_per_patch)

    def patch_at(self, x: float) -> int:
        """Index of the patch that holds pixel x: floor(x / pixels_per_patch)."""
        return math.floor(x / self.pixels_per_patch)

    def next_patch(self, x: float) -> int:
        """Pixel x of the first patch boundary at or after x, never beyond the last patch."""
        ppp = self.pixels_per_patch
        return min(self.patches_to(x) * ppp, (self.max_seq_length - 1) * ppp)

    @property
    def max_chars(self) -> int:
        """Characters of one text (or of a word list together) that can possibly show in the strip: longer
        inputs are cut to this many before layout (see :meth:`clip`). 10,160 with the default settings."""
        width = min(CHARS_PER_EM * self.max_pixels_len, PANGO_MAX_PIXELS / WIDEST_CHAR_EM)
        return math.ceil(width / self.font_pixel_size)

    def clip(self, text: str, from_end: bool = False) -> str:
        """``text`` cut to :attr:`max_chars` characters: its start, or its end where the layout shows the end
        (a right-to-left text wider than the strip shows its logical end, as in the original)."""
        limit = self.max_chars
        if len(text) <= limit:
            return text
        return text[-limit:] if from_end else text[:limit]

    def clip_words(self, words: list[str], from_end: Callable[[str], bool] = lambda word: False) -> list[str]:
        """The words that can possibly show: the list cut where the words (and one space each) pass
        :attr:`max_chars` characters, each word clipped (``from_end(word)``: see :meth:`clip`). The strip is full
        long before that many characters, so only words that cannot show are dropped."""
        limit = self.max_chars
        if sum(map(len, words)) + len(words) <= limit:
            return words
        kept: list[str] = []
        used = 0
        for word in words:
            if used >= limit:
                break
            kept.append(self.clip(word, from_end(word)) if len(word) > limit else word)
            used += len(word) + 1
        return kept

    def previous_patch(self, x: float) -> int:
        """Pixel x of the patch boundary at or before x."""
        return self.patch_at(x) * self.pixels_per_patch

    def empty_image(self) -> np.ndarray:
        """White uint8 image: [ppp, W] grey, or [ppp, W, 3] when rgb."""
        shape = (self.pixels_per_patch, self.max_pixels_len) + ((3,) if self.rgb else ())
        return np.full(shape, 255, dtype=np.uint8)

    # -------------------------------------------------------------------------------------------- calls
    def __call__(
        self,
        text: str | tuple[str, str] | list[str],
        return_offset_mapping: bool = False,
        return_overflowing_patches: bool = False,
        stride: int = 0,
        text_a_max_length: int | None = None,
        rtl: bool = False,
    ) -> Encoding:
        """Render a text (``str``), a pair (``(text_a, text_b)``) or a word list (``list[str]``).

        Offset mapping, overflow windows, ``stride`` and ``text_a_max_length`` apply to pairs only.
        """
        if isinstance(text, str):
            self._reject_pair_options(
                "a single text", return_offset_mapping, return_overflowing_patches, stride, text_a_max_length
            )
            return self.render_text(check_text(text), rtl=rtl)
        if isinstance(text, tuple):
            if len(text) != 2:
                raise ValueError(
                    f"a text pair must be a tuple of 2 str (text_a, text_b), got {len(text)} items"
                )
            text_a, text_b = (check_text(part, f"text pair item {i}") for i, part in enumerate(text))
            if not isinstance(stride, (int, np.integer)) or isinstance(stride, bool) or stride < 0:
                raise ValueError(f"stride must be an integer >= 0 (patches), got {stride!r}")
            if text_a_max_length is not None and (
                not isinstance(text_a_max_length, (int, np.integer)) or text_a_max_length < 1
            ):
                raise ValueError(
                    f"text_a_max_length must be an integer >= 1 (patches) or None, got {text_a_max_length!r}"
                )
            if return_overflowing_patches and not return_offset_mapping:
                raise ValueError("return_overflowing_patches=True needs return_offset_mapping=True")
            return self.render_pair(
                text_a,
                text_b,
                return_offset_mapping=return_offset_mapping,
                return_overflowing_patches=return_overflowing_patches,
                stride=int(stride),
                text_a_max_length=None if text_a_max_length is None else int(text_a_max_length),
                rtl=rtl,
            )
        if isinstance(text, list):
            self._reject_pair_options(
                "a word list", return_offset_mapping, return_overflowing_patches, stride, text_a_max_length
            )
            if not text:
                raise ValueError("the word list is empty: give at least one word (a list of str)")
            return self.render_words(check_words(text), rtl=rtl)
        raise TypeError(
            f"text must be a str, a tuple (text_a, text_b) or a list of words, got {type(text).__name__}"
        )

    @staticmethod
    def _reject_pair_options(
        what: str,
        return_offset_mapping: bool,
        return_overflowing_patches: bool,
        stride: int,
        text_a_max_length: int | None,
    ) -> None:
        given = [
            name
            for name, value, default in (
                ("return_offset_mapping", return_offset_mapping, False),
                ("return_overflowing_patches", return_overflowing_patches, False),
                ("stride", stride, 0),
                ("text_a_max_length", text_a_max_length, None),
            )
            if value != default
        ]
        if given:
            raise ValueError(f"{', '.join(given)} apply to text pairs only, not to {what}")

    def render_text(self, text: str, rtl: bool = False) -> Encoding:
        """Render one text (already checked: a str without line breaks)."""
        raise NotImplementedError

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
        """Render ``text_a``, a black separator patch, ``text_b`` and the black end patch."""
        raise NotImplementedError

    def render_words(self, words: list[str], rtl: bool = False) -> Encoding:
        """Render a non-empty word list, every word after the first starting on a patch boundary."""
        raise NotImplementedError

    # ---------------------------------------------------------------------------------- renderer folder
    def save_pretrained(self, save_directory: str | os.PathLike[str]) -> Path:
        """Write ``text_renderer_config.json`` and a copy of the font into ``save_directory`` (see
        :func:`pixel.render.folder.save_renderer`). Returns the folder."""
        return folder.save_renderer(self, save_directory)

    @classmethod
    def from_pretrained(
        cls, name_or_path: str | os.PathLike[str], revision: str | None = None, **overrides: Any
    ) -> TextRenderer:
        """Load a renderer folder (local folder, its config file, or a Hub repo id); see
        :func:`pixel.render.folder.load_renderer`.

        ``overrides`` replace settings of the folder (e.g. ``max_seq_length=256``, ``rgb=True``).
        Called on ``TextRenderer`` itself, the class is chosen from the folder's ``text_renderer_type``.
        """
        backend = None if cls is TextRenderer else cls
        return folder.load_renderer(name_or_path, backend=backend, revision=revision, **overrides)

    # ------------------------------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for name in self._transient:
            state[name] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(font_file={self.font_file!r}, font_size={self.font_size}, dpi={self.dpi}, "
            f"pixels_per_patch={self.pixels_per_patch}, max_seq_length={self.max_seq_length}, rgb={self.rgb})"
        )
