"""Relevance maps as pictures: the rendered strip under a heat overlay (one colour per patch), the patch grid,
a bar per patch and the explained label.

Colours are min-max normalised over the text patches of each map, as the original's visualisation did (blue
= least relevant, red = most); the bars show the same normalised values.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from pixel.explain.relevance import Relevance
from pixel.render.picture import draw_patch_grid, to_rgb
from pixel.viz import (
    BACKGROUND,
    CAPTION_FONT_SIZE,
    CAPTION_LINE_HEIGHT,
    LINE_GAP,
    MARGIN,
    PATCH,
    ROW_GAP,
    caption_font,
)

OVERLAY_ALPHA = 0.45
BAR_HEIGHT = 24
BAR_COLOUR = (90, 90, 90)
# jet, as the original's overlay: dark blue, blue, cyan, yellow, red, dark red
HEAT_STOPS = np.array([0.0, 0.125, 0.375, 0.625, 0.875, 1.0])
HEAT_COLOURS = np.array([[0, 0, 128], [0, 0, 255], [0, 255, 255], [255, 255, 0], [255, 0, 0], [128, 0, 0]], float)
NOTE = "Colour and bar per patch: relevance min-max normalised over the text patches (blue least, red most)."


def heat_colours(values: np.ndarray) -> np.ndarray:
    """values [N] in [0, 1] -> uint8 [N, 3] jet colours."""
    values = np.clip(np.asarray(values, dtype=float), 0.0, 1.0)
    channels = [np.interp(values, HEAT_STOPS, HEAT_COLOURS[:, c]) for c in range(3)]
    return np.round(np.stack(channels, axis=-1)).astype(np.uint8)


def normalised(map_: Relevance) -> np.ndarray:
    """float [L]: the values min-max scaled to [0, 1] over the text patches (attention mask 1), 0 elsewhere."""
    text = map_.attention_mask > 0
    values = np.where(text, map_.values.astype(float), 0.0)
    low, high = values[text].min(), values[text].max()
    scaled = (values - low) / (high - low) if high > low else np.zeros_like(values)
    return np.where(text, scaled, 0.0)


def describe(map_: Relevance) -> str:
    """One caption line: what was explained and how."""
    probability = "" if map_.probability is None else f" (p {map_.probability:.2f})"
    what = f"{map_.read_out} pooling" if map_.patch is None else map_.read_out
    if map_.word is not None:
        what = f"word {map_.word} {map_.text[map_.word]!r} at patch {map_.patch}"
    return f"{map_.label}{probability} - {what}, {map_.method} relevance"


def overlay_strip(map_: Relevance, shown: int, scale: int) -> np.ndarray:
    """uint8 [16 * scale, 16 * shown * scale, 3]: the strip's first ``shown`` patches under the heat colours,
    with the patch grid."""
    strip = to_rgb(map_.encoding.pixel_values)[:, : shown * PATCH].astype(float)
    colours = np.repeat(heat_colours(normalised(map_)[:shown]), PATCH, axis=0)[None].astype(float)
    blended = np.round((1 - OVERLAY_ALPHA) * strip + OVERLAY_ALPHA * colours).astype(np.uint8)
    return draw_patch_grid(blended, PATCH, scale=scale)


def relevance_figure(maps: Sequence[Relevance], title: str | Sequence[str] = (), *, scale: int = 2,
                     patches_per_line: int = 64) -> Image.Image:
    """An RGB picture of one or more relevance maps of the same strip (e.g. one per word): ``title`` lines,
    then per map its caption, the heat-overlaid strip (text patches and the end patch, wrapped every
    ``patches_per_line`` patches) and its bars; the explained patch of a token classifier is framed."""
    if not maps:
        raise ValueError("no relevance map to draw")
    if not 1 <= scale <= 8:
        raise ValueError(f"scale: expected an integer from 1 to 8, got {scale}")
    if patches_per_line < 1:
        raise ValueError(f"patches_per_line must be >= 1, got {patches_per_line}")
    shown = max(int(m.attention_mask.sum()) for m in maps)
    per_line = min(patches_per_line, shown)
    lines = -(-shown // per_line)
    side = PATCH * scale
    width = 2 * MARGIN + per_line * side
    wrap = max(40, (width - 2 * MARGIN) // 8)
    titles = [title] if isinstance(title, str) else list(title)
    header = [piece for text in [*titles, NOTE] for piece in textwrap.wrap(text, wrap) or [""]]
    map_height = CAPTION_LINE_HEIGHT + lines * (side + BAR_HEIGHT + 2 * ROW_GAP)
    height = 2 * MARGIN + len(header) * CAPTION_LINE_HEIGHT + len(maps) * (map_height + LINE_GAP)
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    font = caption_font(CAPTION_FONT_SIZE)
    y = MARGIN
    for text in header:
        draw.text((MARGIN, y), text, fill=(0, 0, 0), font=font)
        y += CAPTION_LINE_HEIGHT
    for map_ in maps:
        y += LINE_GAP
        draw.text((MARGIN, y), describe(map_), fill=(0, 0, 0), font=font)
        y += CAPTION_LINE_HEIGHT
        strip, bars = overlay_strip(map_, shown, scale), normalised(map_)
        for line in range(lines):
            start, end = line * per_line, min((line + 1) * per_line, shown)
            image.paste(Image.fromarray(strip[:, start * side : end * side]), (MARGIN, y))
            bar_bottom = y + side + ROW_GAP + BAR_HEIGHT
            for patch in range(start, end):
                left = MARGIN + (patch - start) * side
                if bars[patch] > 0:
                    top = bar_bottom - max(1, round(bars[patch] * BAR_HEIGHT))
                    draw.rectangle([left + 1, top, left + side - 2, bar_bottom - 1], fill=BAR_COLOUR)
                if patch == map_.patch:
                    draw.rectangle([left, y, left + side - 1, y + side - 1], outline=(0, 0, 0), width=max(2, scale))
            y = bar_bottom + ROW_GAP
    return image
