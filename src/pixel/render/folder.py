"""Renderer folders and the registry of renderer families.

A renderer folder holds ``text_renderer_config.json`` and the font it names, as the original's do (Team-PIXEL
repos carry one next to the model). A renderer's *settings* are the named parameters of the constructors along
its class hierarchy, each kept as an attribute of the same name: saving writes them (``font_file`` as the
basename of the copied font; ``fallback_fonts_dir``, a path of this machine, is not stored), loading passes the
stored ones back to the constructor. A new setting of a backend is thus stored and restored just by being a
constructor argument, and a new renderer family is one module plus one line in :data:`BACKENDS`.

Nothing here imports a renderer module until a class is asked for, so the registry costs nothing to import.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import os
import warnings
from pathlib import Path
from typing import Any

from pixel.io import copy_file, write_json
from pixel.render.structured import folder_rendering
from pixel.resolve import list_folder, resolve_file

CONFIG_NAME = "text_renderer_config.json"
RENDERER_FOLDER = "renderer folder"

# Backend name -> (module, class); the folder's ``text_renderer_type`` (a class name) picks the backend.
BACKENDS: dict[str, tuple[str, str]] = {
    "pangocairo": ("pixel.render.pangocairo", "PangoCairoTextRenderer"),
    "pygame": ("pixel.render.pygame", "PyGameTextRenderer"),
}
DEFAULT_BACKEND = "pangocairo"

# Bookkeeping of the original's folders and ours; never a setting.
BOOKKEEPING_KEYS = frozenset({"fonts_list", "text_renderer_type", "font_sha256"})
# Settings that name files of this machine: the font is copied into the folder instead, fallback fonts are not.
UNSTORED_SETTINGS = frozenset({"fallback_fonts_dir"})
FONT_SUFFIXES = (".ttf", ".otf", ".ttc")
# First bytes of TrueType, OpenType and collection font files.
FONT_SIGNATURES = frozenset({b"\x00\x01\x00\x00", b"OTTO", b"true", b"ttcf"})


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ------------------------------------------------------------------------------------------------ registry
def renderer_class(backend: str) -> type:
    """The renderer class of a backend name (a key of :data:`BACKENDS`); imports its module on first use."""
    try:
        module_name, class_name = BACKENDS[backend.lower()]
    except (KeyError, AttributeError):
        raise ValueError(f"unknown renderer backend {backend!r}; choose one of {', '.join(BACKENDS)}") from None
    return getattr(importlib.import_module(module_name), class_name)


def backend_of(text_renderer_type: str | None) -> str:
    """Backend name for a config's ``text_renderer_type`` ("PyGameTextRenderer" -> "pygame"); the default
    backend for anything else (the original's pixel-base folder says "TextRenderer")."""
    for backend, (_module, class_name) in BACKENDS.items():
        if text_renderer_type and text_renderer_type.lower() == class_name.lower():
            return backend
    return DEFAULT_BACKEND


def renderer_settings(cls: type) -> list[str]:
    """Names of the settings of renderer class ``cls``: the named parameters of every ``__init__`` along its
    class hierarchy (a backend declares its own settings and passes the others on with ``**settings``)."""
    names: list[str] = []
    for klass in cls.__mro__:
        init = vars(klass).get("__init__")
        if init is None or klass is object:
            continue
        for parameter in list(inspect.signature(init).parameters.values())[1:]:
            if parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY):
                if parameter.name not in names:
                    names.append(parameter.name)
    return names


def _settings_of_any_backend() -> set[str]:
    return {name for backend in BACKENDS for name in renderer_settings(renderer_class(backend))}


# ------------------------------------------------------------------------------------------------- saving
def save_renderer(renderer: Any, save_directory: str | os.PathLike[str]) -> Path:
    """Write ``text_renderer_config.json`` (the settings, the font's sha256, ``text_renderer_type`` = the class
    name) and a copy of the font into ``save_directory``. Returns the folder."""
    folder = Path(save_directory)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"cannot save the renderer into {folder}: it is a file, not a folder")
    source = Path(renderer.font_file)
    font = folder / source.name
    if not (font.exists() and font.samefile(source)):
        copy_file(source, font)
    config = {name: getattr(renderer, name) for name in renderer_settings(type(renderer))
              if name not in UNSTORED_SETTINGS}
    config["font_file"] = source.name
    config["font_sha256"] = file_sha256(font)
    config["text_renderer_type"] = type(renderer).__name__
    write_json(folder / CONFIG_NAME, config)
    return folder


# ------------------------------------------------------------------------------------------------ loading
def read_renderer_folder(
    name_or_path: str | os.PathLike[str], revision: str | None = None, font: bool = True
) -> tuple[dict[str, Any], Path | None]:
    """Read ``text_renderer_config.json`` and locate its font. Returns (config dict, font path).

    ``name_or_path``: a local folder, the config file itself, or a Hub repo id (files downloaded by
    :func:`pixel.resolve.resolve_file`, ``revision`` = branch, tag or commit). ``font`` False: the caller
    brings its own font; the path is then None. When the named font is not in the folder, the folder's only
    font file is used, with a warning (PIXEL-M4's ``last-checkpoint/`` names GoNotoCurrent.ttf by a hashed
    cache file name); with none or several, FileNotFoundError lists what the folder holds.
    """
    path = Path(name_or_path).expanduser()
    config_path = path if path.is_file() else resolve_file(name_or_path, CONFIG_NAME, revision, RENDERER_FOLDER)
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{config_path} is not valid JSON: {err}") from None
    if not isinstance(config, dict) or "font_file" not in config:
        raise ValueError(f"{config_path} is not a renderer config: it needs at least a 'font_file' entry")
    if not font:
        return config, None
    font_name = Path(str(config["font_file"])).name
    fonts_from = config_path.parent if path.exists() else name_or_path  # next to the config, or the same repo
    try:
        return config, resolve_file(fonts_from, font_name, revision, RENDERER_FOLDER)
    except FileNotFoundError as missing:
        return config, _only_font(fonts_from, font_name, revision, missing)


def _only_font(
    folder: str | os.PathLike[str], font_name: str, revision: str | None, missing: FileNotFoundError
) -> Path:
    """The one font file of ``folder`` (by suffix; in a local folder also by its first bytes, since a font
    stored under a cache name has no suffix), standing in for the missing ``font_name``."""
    try:
        names = list_folder(folder, revision, RENDERER_FOLDER)
    except (OSError, ValueError):
        raise missing from None
    local = Path(folder).is_dir()
    fonts = [name for name in names
             if name.lower().endswith(FONT_SUFFIXES) or (local and _is_font(Path(folder) / name))]
    if len(fonts) != 1:
        held = f"{len(fonts)} font files ({', '.join(fonts)})" if fonts else "no font file (.ttf, .otf, .ttc)"
        shown = ", ".join(names[:20]) + (f", ... ({len(names)} files)" if len(names) > 20 else "")
        raise FileNotFoundError(
            f"{missing}, and no other font can stand in for {font_name!r}: the folder holds {held}; its files: "
            f"{shown or 'none'}. Put the font the model was trained with there, or pass font_file=PATH"
        ) from None
    warnings.warn(f"renderer folder {folder}: the font {font_name!r} it names is not there; using {fonts[0]}, "
                  "the only font in the folder", stacklevel=3)
    return resolve_file(folder, fonts[0], revision, RENDERER_FOLDER)


def _is_font(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(4) in FONT_SIGNATURES


def load_renderer(
    name_or_path: str | os.PathLike[str],
    backend: str | type | None = None,
    revision: str | None = None,
    **overrides: Any,
) -> Any:
    """Load a renderer folder (local folder, its config file, or a Hub repo id at ``revision``).

    backend: None (default) follows the folder's ``text_renderer_type`` (PangoCairo when it names no other
    family); a backend name ("pangocairo", "pygame") or a renderer class forces one.
    overrides: settings that replace the folder's (e.g. ``max_seq_length=256``, ``rgb=True``).
    Settings of other renderer families in the folder (the original's PangoCairo folders carry PyGame's
    ``pad_size`` and colours) are dropped silently; unknown keys are dropped with a warning.
    """
    config, font_path = read_renderer_folder(name_or_path, revision, font="font_file" not in overrides)
    if backend is None:
        backend = backend_of(config.get("text_renderer_type"))
    cls = renderer_class(backend) if isinstance(backend, str) else backend
    config = folder_rendering(config, name_or_path, cls, overrides)
    accepted = renderer_settings(cls)
    unknown = sorted(set(overrides) - set(accepted))
    if unknown:
        raise ValueError(f"{cls.__name__} has no setting {', '.join(unknown)}; known: {', '.join(sorted(accepted))}")
    settings = {key: value for key, value in config.items() if key in accepted}
    ignored = set(config) - set(settings) - BOOKKEEPING_KEYS - _settings_of_any_backend()
    for key in sorted(ignored):
        warnings.warn(f"{CONFIG_NAME}: ignoring unknown key {key!r}", stacklevel=2)
    settings["font_file"] = font_path
    settings.update(overrides)
    recorded = config.get("font_sha256")
    if recorded and font_path is not None:
        actual = file_sha256(font_path)
        if actual != recorded:
            warnings.warn(
                f"font file {font_path} has sha256 {actual}, but the renderer folder recorded {recorded}: "
                "images will differ from those the model was trained on",
                stacklevel=2,
            )
    return cls(**settings)
