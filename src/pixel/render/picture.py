"""Pictures of rendered strips for people: crop to the text, upscale, draw the patch grid, save PNGs."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pixel.io import atomic_path
from pixel.render.encoding import Encoding

GRID_COLOUR = (80, 150, 255)
SEPARATOR_COLOUR = (230, 40, 40)


def used_patches(encoding: Encoding) -> int:
    """Patches up to and including the last black patch (the end of the rendered text)."""
    last = max(encoding.sep_patches, default=encoding.num_text_patches)
    return min(last + 1, encoding.num_patches)


def crop_to_text(encoding: Encoding) -> np.ndarray:
    """uint8 [16, 16 * used_patches] (or [..., 3]): the strip up to its end patch."""
    ppp = encoding.pixel_values.shape[0]
    return encoding.pixel_values[:, : used_patches(encoding) * ppp]


def to_rgb(image: np.ndarray) -> np.ndarray:
    """uint8 [H, W] grey or [H, W, 3] -> uint8 [H, W, 3]."""
    return np.repeat(image[:, :, None], 3, axis=2) if image.ndim == 2 else image


def draw_patch_grid(
    image: np.ndarray, pixels_per_patch: int = 16, sep_patches: Sequence[int] = (), scale: int = 4
) -> np.ndarray:
    """Upscale ``image`` (uint8 [ppp, W] or [ppp, W, 3]) ``scale`` times, nearest neighbour, and draw the patch
    grid in blue and a red frame around each separator patch. Returns uint8 [ppp*scale, W*scale, 3]."""
    if scale < 1:
        raise ValueError(f"scale must be >= 1, got {scale}")
    picture = to_rgb(image).repeat(scale, axis=0).repeat(scale, axis=1)
    side = pixels_per_patch * scale
    num_patches = picture.shape[1] // side
    picture[:, ::side] = GRID_COLOUR
    picture[:, -1] = GRID_COLOUR
    picture[[0, -1], :] = GRID_COLOUR
    line = max(scale // 2, 1)
    for patch in sep_patches:
        if 0 <= patch < num_patches:
            left, right = patch * side, (patch + 1) * side
            picture[:line, left:right] = SEPARATOR_COLOUR
            picture[-line:, left:right] = SEPARATOR_COLOUR
            picture[:, left : left + line] = SEPARATOR_COLOUR
            picture[:, right - line : right] = SEPARATOR_COLOUR
    return picture


def check_png_path(path: str | os.PathLike[str]) -> Path:
    """``path`` as a Path if a PNG can be written there (name ends in .png, folder exists), else an error."""
    target = Path(path).expanduser()
    if target.suffix.lower() != ".png":
        raise ValueError(f"output file must end in .png, got {str(path)!r}")
    if not target.parent.is_dir():
        raise FileNotFoundError(f"output folder does not exist: {target.parent}")
    return target


def save_png(image: np.ndarray, path: str | os.PathLike[str]) -> Path:
    """Write uint8 [H, W] (grey) or [H, W, 3] (RGB) as a PNG, atomically (temporary file + os.replace)."""
    from PIL import Image

    target = check_png_path(path)
    with atomic_path(target) as temporary:
        Image.fromarray(np.ascontiguousarray(image)).save(temporary, format="PNG")
    return target


def describe_chars(chars: Sequence[str]) -> str:
    """'U+4E2D 中, U+0009 \\t' style list of characters for messages."""
    return ", ".join(f"U+{ord(char):04X} {char if char.isprintable() else repr(char)[1:-1]}" for char in chars)
