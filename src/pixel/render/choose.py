"""The renderer a command uses with a model: a renderer folder it names, else the model's own, else a fresh one.

`pixel reconstruct`, `pixel pretrain` and `pixel finetune` all choose here, by one rule:

- ``renderer`` names a renderer folder (or Hub repo): that folder; a ``rendering`` / ``bigram_unit`` given
  replaces the folder's (rendering a model's patches differently on purpose: name its folder explicitly);
- ``renderer`` is a backend name ("pangocairo", "pygame") or None: the model's renderer folder (the model
  folder or its ``renderer/`` subfolder, or the model's Hub repo), loaded with that backend; a ``rendering`` /
  ``bigram_unit`` given must agree with it, since the model would otherwise silently read patches it never
  saw (ValueError). A model without one gets a fresh renderer of that backend (PangoCairo for None) drawing
  ``rendering`` (default continuous) with ``font_file``; with ``renderer`` None and ``fresh=False`` it is a
  FileNotFoundError instead (fine-tuning: a model is read as it was trained, or by an explicit choice).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from pixel.render.folder import (
    BACKENDS,
    CONFIG_NAME,
    DEFAULT_BACKEND,
    load_renderer,
    renderer_class,
    renderer_settings,
)
from pixel.render.structured import check_bigram_unit, check_rendering

logger = logging.getLogger(__name__)


def choose_renderer(
    renderer: str | os.PathLike[str] | None,
    model: str | os.PathLike[str] | None,
    rendering: str | None = None,
    bigram_unit: str | None = None,
    *,
    fresh: bool = True,
    font_file: str | os.PathLike[str] | None = None,
    **settings: Any,
) -> tuple[Any, str]:
    """(renderer, where it came from) by the rule of this module.

    renderer: a renderer folder / Hub id, a backend name, or None; model: the model folder or Hub id whose
    renderer folder goes with it (None: no model). rendering / bigram_unit: None keeps the folder's (a fresh
    renderer: continuous, codepoint). font_file: the font of a fresh renderer (None: the backend's default).
    settings: further settings of any renderer (e.g. ``max_seq_length``).
    """
    requested = _requested(rendering, bigram_unit)
    if renderer is not None and os.fspath(renderer).lower() not in BACKENDS:
        loaded = load_renderer(renderer, **requested, **settings)
        if requested:
            logger.info("renderer folder %s drawn with %s", renderer, _describe(requested))
        return loaded, os.fspath(renderer)
    backend = DEFAULT_BACKEND if renderer is None else os.fspath(renderer).lower()
    folder, missing = _model_renderer(model)
    if folder is not None:
        try:
            loaded = load_renderer(folder, backend=None if renderer is None else backend, **settings)
        except FileNotFoundError as err:  # a Hub repo without a renderer folder
            folder, missing = None, f"no renderer folder in {model} ({err})"
        else:
            _check_agrees(loaded, requested, folder)
            return loaded, folder
    if not fresh and renderer is None:
        raise FileNotFoundError(
            f"{missing}; pass --renderer DIR (a renderer folder) or --renderer {DEFAULT_BACKEND} (a fresh renderer)"
        )
    cls = renderer_class(backend)
    if requested and "rendering" not in renderer_settings(cls):
        if requested.get("rendering", "continuous") != "continuous":
            raise ValueError(f"rendering {requested['rendering']!r} needs the pangocairo backend; {backend} "
                             "draws continuous text only")
        requested = {}
    options = {"font_file": font_file} if font_file is not None else {}
    source = f"a fresh {cls.__name__}" + (f" ({_describe(requested)})" if requested else "")
    if missing:
        source += f"; {missing}"
    return cls(**options, **requested, **settings), source


def _requested(rendering: str | None, bigram_unit: str | None) -> dict[str, str]:
    requested: dict[str, str] = {}
    if rendering is not None:
        requested["rendering"] = check_rendering(rendering)
    if bigram_unit is not None:
        requested["bigram_unit"] = check_bigram_unit(bigram_unit)
    return requested


def _describe(requested: dict[str, str]) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in requested.items())


def _model_renderer(model: str | os.PathLike[str] | None) -> tuple[str | None, str]:
    """(the renderer folder of ``model`` or None, why there is none)."""
    if model is None:
        return None, ""
    path = Path(model).expanduser()
    if not path.exists():
        return os.fspath(model), ""  # a Hub repo id: its files are looked up there
    for folder in (path, path / "renderer"):
        if (folder / CONFIG_NAME).is_file():
            return os.fspath(folder), ""
    return None, f"the model folder {path} has no renderer folder ({CONFIG_NAME})"


def _check_agrees(loaded: Any, requested: dict[str, str], folder: str) -> None:
    """ValueError when ``requested`` contradicts the rendering of the model's renderer folder."""
    own = {"rendering": getattr(loaded, "rendering", "continuous"),
           "bigram_unit": getattr(loaded, "bigram_unit", "codepoint")}
    rendering = requested.get("rendering", own["rendering"])
    differs = {key: value for key, value in requested.items()
               if value != own[key] and (key == "rendering" or rendering == "bigrams")}
    if differs:
        theirs = ", ".join(f"{key}={own[key]!r}" for key in differs)
        raise ValueError(
            f"the model's renderer folder {folder} draws {theirs}, but {_describe(differs)} was asked for: the "
            f"model would read patches unlike those it was trained on. Drop the option to use the model's "
            f"rendering, or name the folder explicitly (--renderer {folder}) to render differently on purpose"
        )

