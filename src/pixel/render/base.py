"""What every text renderer shares: settings, patch geometry, input checks, call dispatch, renderer folders.

A renderer turns text into one row of square patches: an image of ``pixels_per_patch`` rows and
``pixels_per_patch * max_seq_length`` columns (16 x 8464 by default). Backends (PangoCairo, PyGame) subclass
:class:`TextRenderer` and implement ``render_text``, ``render_pair`` and ``render_words``.

Nothing here imports a drawing library, so ``import pixel.render.base`` stays light.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import math
import os
import re
import shutil
import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from pixel.io import atomic_path
from pixel.render.encoding import Encoding

CONFIG_NAME = "text_renderer_config.json"
DEFAULT_FONT_FILE = Path(__file__).resolve().parent / "fonts" / "NotoSans-Regular.ttf"

# Backend name -> (module, class). The class is chosen from ``text_renderer_type`` when loading a folder.
BACKENDS: dict[str, tuple[str, str]] = {
    "pangocairo": ("pixel.render.pangocairo", "PangoCairoTextRenderer"),
    "pygame": ("pixel.render.pygame", "PyGameTextRenderer"),
}
DEFAULT_BACKEND = "pangocairo"

# Characters that would start a new line. The strip has exactly one line, so each becomes one space
# (one for one, so that character offsets into the caller's string stay valid). The original replaced only "\n".
LINE_BREAKS = "\n\r\x0b\x0c\x85\u2028\u2029"
_LINE_BREAKS_TO_SPACE = str.maketrans(dict.fromkeys(LINE_BREAKS, " "))
_LINE_BREAK = re.compile(f"[{LINE_BREAKS}]")

# Keys that carry no setting for the class being built: bookkeeping of the original's folders and ours, and
# settings of the other backend (a PangoCairo folder loaded as PyGame keeps its "use_system_fonts").
IGNORED_CONFIG_KEYS = frozenset({"fonts_list", "text_renderer_type", "font_sha256", "use_system_fonts"})


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
            raise ValueError(
                f"{what} contains a lone surrogate {text[err.start]!r} at index {err.start}; it is not valid "
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


def blacken_patches(pixel_values: np.ndarray, patch_indices: list[int], pixels_per_patch: int) -> None:
    """Paint the given patches black (0) in place. pixel_values: uint8 [ppp, W] or [ppp, W, 3]."""
    for index in patch_indices:
        pixel_values[:, index * pixels_per_patch : (index + 1) * pixels_per_patch] = 0


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (pixel.io.atomic_path)."""
    with atomic_path(path) as temporary:
        temporary.write_bytes(data)


def copy_atomic(source: Path, target: Path) -> None:
    """Copy a file atomically (pixel.io.atomic_path)."""
    with atomic_path(target) as temporary:
        shutil.copyfile(source, temporary)


class TextRenderer:
    """Settings and geometry shared by all renderers; subclasses draw.

    Args:
        font_file: main font (.ttf/.otf/.ttc). None: the Noto Sans Regular shipped with pixel.
        font_size: size in points; the pixel size is ``dpi / 72 * font_size`` (13.33 px by default).
        dpi: dots per inch used to convert points to pixels.
        pixels_per_patch: patch side in pixels (= image height).
        max_seq_length: number of patches in the strip (image width = pixels_per_patch * max_seq_length).
        pad_size: top padding of words in the PyGame word renderer (unused by PangoCairo).
        font_color, background_color: PyGame colours (the PangoCairo original ignored them; so do we).
        rgb: return uint8 [ppp, W, 3] instead of grey [ppp, W].
        fallback_fonts_dir: folder of further .ttf/.otf/.ttc fonts for characters the main font lacks.

    Subclasses implement ``render_text``, ``render_pair`` and ``render_words``; an option they do not
    support raises ValueError. Attributes named in ``_transient`` hold native handles: they are dropped when
    pickling (DataLoader workers) and must be rebuilt lazily by the subclass.
    """

    _transient: ClassVar[tuple[str, ...]] = ()

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
        for name, value, least in (
            ("pixels_per_patch", pixels_per_patch, 1),
            ("max_seq_length", max_seq_length, 2),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
                raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
        if isinstance(pad_size, bool) or not isinstance(pad_size, (int, np.integer)) or pad_size < 0:
            raise ValueError(f"pad_size must be an integer >= 0, got {pad_size!r}")
        self.font_file = str(font_path)
        self.font_size = font_size
        self.dpi = dpi
        self.pixels_per_patch = int(pixels_per_patch)
        self.max_seq_length = int(max_seq_length)
        self.pad_size = int(pad_size)
        self.font_color = font_color
        self.background_color = background_color
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

    def next_patch(self, x: float) -> int:
        """Pixel x of the first patch boundary at or after x, never beyond the last patch."""
        ppp = self.pixels_per_patch
        return min(math.ceil(x / ppp) * ppp, self.max_pixels_len - ppp)

    def previous_patch(self, x: float) -> int:
        """Pixel x of the patch boundary at or before x."""
        ppp = self.pixels_per_patch
        return math.floor(x / ppp) * ppp

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
    def config(self) -> dict[str, Any]:
        """Settings written to ``text_renderer_config.json`` (font_file as a basename)."""
        return {
            "background_color": self.background_color,
            "dpi": self.dpi,
            "font_color": self.font_color,
            "font_file": Path(self.font_file).name,
            "font_size": self.font_size,
            "max_seq_length": self.max_seq_length,
            "pad_size": self.pad_size,
            "pixels_per_patch": self.pixels_per_patch,
            "rgb": self.rgb,
        }

    def save_pretrained(self, save_directory: str | os.PathLike[str]) -> Path:
        """Write ``text_renderer_config.json`` and a copy of the font into ``save_directory``.

        The config records the font's sha256 and ``text_renderer_type`` (the class name). Returns the folder.
        """
        folder = Path(save_directory)
        if folder.exists() and not folder.is_dir():
            raise ValueError(f"cannot save the renderer into {folder}: it is a file, not a folder")
        folder.mkdir(parents=True, exist_ok=True)
        source = Path(self.font_file)
        target = folder / source.name
        if not (target.exists() and target.samefile(source)):
            copy_atomic(source, target)
        config = self.config()
        config["font_sha256"] = file_sha256(target)
        config["text_renderer_type"] = type(self).__name__
        write_atomic(folder / CONFIG_NAME, (json.dumps(config, indent=2, sort_keys=True) + "\n").encode())
        return folder

    @classmethod
    def from_pretrained(
        cls, name_or_path: str | os.PathLike[str], revision: str | None = None, **overrides: Any
    ) -> TextRenderer:
        """Load a renderer folder (local folder, its config file, or a Hub repo id).

        ``overrides`` replace settings of the folder (e.g. ``max_seq_length=256``, ``rgb=True``).
        Called on ``TextRenderer`` itself, the class is chosen from the folder's ``text_renderer_type``.
        """
        from pixel.render.structured import folder_rendering  # (lazy: importing base stays light)

        config, font_path = read_renderer_folder(name_or_path, revision)
        target = cls
        if cls is TextRenderer:
            target = renderer_class(backend_of(config.get("text_renderer_type")))
        config = folder_rendering(config, name_or_path, target, overrides)
        return target._from_config(config, font_path, overrides)

    @classmethod
    def _from_config(cls, config: dict[str, Any], font_path: Path, overrides: dict[str, Any]) -> TextRenderer:
        accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
        unknown = sorted(set(overrides) - accepted)
        if unknown:
            raise ValueError(
                f"{cls.__name__} has no setting {', '.join(unknown)}; known: {', '.join(sorted(accepted))}"
            )
        kwargs: dict[str, Any] = {}
        for key, value in config.items():
            if key in accepted:
                kwargs[key] = value
            elif key not in IGNORED_CONFIG_KEYS:
                warnings.warn(f"{CONFIG_NAME}: ignoring unknown key {key!r}", stacklevel=3)
        kwargs["font_file"] = font_path
        kwargs.update(overrides)
        recorded = config.get("font_sha256")
        if recorded and Path(kwargs["font_file"]) == font_path:
            actual = file_sha256(font_path)
            if actual != recorded:
                warnings.warn(
                    f"font file {font_path} has sha256 {actual}, but the renderer folder recorded {recorded}: "
                    "images will differ from those the model was trained on",
                    stacklevel=3,
                )
        return cls(**kwargs)

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


def backend_of(text_renderer_type: str | None) -> str:
    """Backend name for a ``text_renderer_type`` of a config ("PyGameTextRenderer" -> "pygame")."""
    if text_renderer_type and "pygame" in text_renderer_type.lower():
        return "pygame"
    return DEFAULT_BACKEND


def renderer_class(backend: str) -> type[TextRenderer]:
    """The renderer class of a backend name ("pangocairo" or "pygame"); imports it on first use."""
    try:
        module_name, class_name = BACKENDS[backend.lower()]
    except (KeyError, AttributeError):
        raise ValueError(
            f"unknown renderer backend {backend!r}; choose one of {', '.join(BACKENDS)}"
        ) from None
    return getattr(importlib.import_module(module_name), class_name)


def read_renderer_folder(
    name_or_path: str | os.PathLike[str], revision: str | None = None
) -> tuple[dict[str, Any], Path]:
    """Read ``text_renderer_config.json`` and locate its font. Returns (config dict, font path).

    ``name_or_path``: a local folder, the config file itself, or a Hub repo id (downloaded with
    huggingface_hub, ``revision`` = branch, tag or commit).
    """
    path = Path(name_or_path).expanduser()
    from_hub = False
    if path.is_dir():
        config_path = path / CONFIG_NAME
        if not config_path.is_file():
            raise FileNotFoundError(f"no {CONFIG_NAME} in the renderer folder {path}")
    elif path.is_file():
        config_path = path
    elif str(name_or_path).count("/") == 1 and not str(name_or_path).startswith((".", "/", "~")):
        config_path = Path(_hub_download(str(name_or_path), CONFIG_NAME, revision))
        from_hub = True
    else:
        raise FileNotFoundError(
            f"renderer folder not found: {name_or_path} (a folder with {CONFIG_NAME} or a Hub repo id)"
        )
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{config_path} is not valid JSON: {err}") from None
    if not isinstance(config, dict) or "font_file" not in config:
        raise ValueError(f"{config_path} is not a renderer config: it needs at least a 'font_file' entry")
    font_name = Path(str(config["font_file"])).name
    if from_hub:
        font_path = Path(_hub_download(str(name_or_path), font_name, revision))
    else:
        font_path = config_path.parent / font_name
        if not font_path.is_file():
            raise FileNotFoundError(
                f"font file not found: {font_path} (named by {config_path}; put the font next to the config)"
            )
    return config, font_path


def _hub_download(repo_id: str, filename: str, revision: str | None) -> str:
    try:
        from huggingface_hub import hf_hub_download
    except ImportError as err:  # pragma: no cover - huggingface_hub is a dependency
        raise RuntimeError("loading a renderer from the Hub needs the huggingface_hub package") from err
    try:
        return hf_hub_download(repo_id, filename, revision=revision)
    except Exception as err:
        raise FileNotFoundError(f"could not get {filename} from the Hub repo {repo_id!r}: {err}") from err


def load_renderer(
    name_or_path: str | os.PathLike[str],
    backend: str | None = None,
    revision: str | None = None,
    **overrides: Any,
) -> TextRenderer:
    """Load a renderer folder with the class its config names (``text_renderer_type``), or ``backend``.

    ``backend``: "pangocairo" or "pygame" to force one; None (default) follows the config, PangoCairo when
    the config names no PyGame renderer.
    """
    from pixel.render.structured import folder_rendering  # (lazy: importing base stays light)

    config, font_path = read_renderer_folder(name_or_path, revision)
    chosen = backend if backend is not None else backend_of(config.get("text_renderer_type"))
    target = renderer_class(chosen)
    return target._from_config(
        folder_rendering(config, name_or_path, target, overrides), font_path, overrides
    )
