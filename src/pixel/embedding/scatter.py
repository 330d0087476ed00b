"""A PCA scatter of embeddings coloured by a label: numpy's SVD for the projection, Pillow for the picture."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

# Ten colours told apart easily (matplotlib's tab10); more labels reuse them.
COLOURS = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
           (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207))


def pca_2d(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """vectors [N, D] -> (points [N, 2] on the first two principal axes, the share of the variance each axis
    holds [2]). Each axis's sign makes its largest coordinate positive, so the picture does not flip between
    runs."""
    centred = np.asarray(vectors, dtype=np.float64)
    if centred.ndim != 2 or len(centred) < 2:
        raise ValueError(f"PCA needs at least two vectors [N, D], got shape {list(centred.shape)}")
    centred = centred - centred.mean(axis=0)
    _, singular, axes = np.linalg.svd(centred, full_matrices=False)
    axes = np.pad(axes[:2], ((0, max(0, 2 - len(axes))), (0, 0)))
    points = centred @ axes.T
    signs = np.where(points[np.abs(points).argmax(axis=0), [0, 1]] < 0, -1.0, 1.0)
    variance = np.pad(singular[:2] ** 2, (0, max(0, 2 - len(singular))))
    return points * signs, variance / max(float(np.sum(singular**2)), 1e-300)


def scatter_figure(vectors: np.ndarray, labels: Sequence[str], title: str = "") -> Image.Image:
    """RGB picture of ``vectors`` [N, D] on their first two principal axes, one colour per label (legend
    on the right, labels in first-seen order), the axes' shares of the variance under the title."""
    from pixel.viz import caption_font

    if len(labels) != len(vectors):
        raise ValueError(f"{len(vectors)} vectors but {len(labels)} labels")
    points, share = pca_2d(vectors)
    counts = Counter(labels)
    names = list(counts)  # first-seen order
    size, left, top, legend_width = 480, 20, 50, 180
    image = Image.new("RGB", (left + size + legend_width, top + size + 30), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    font = caption_font(12)
    low, high = points.min(axis=0), points.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    pixels = (points - low) / span * (size - 16) + 8
    draw.rectangle([left, top, left + size, top + size], outline=(0, 0, 0))
    for (x, y), label in zip(pixels, labels, strict=True):
        colour = COLOURS[names.index(label) % len(COLOURS)]
        cx, cy = left + x, top + size - y
        draw.ellipse([cx - 3, cy - 3, cx + 3, cy + 3], fill=colour)
    draw.text((left, 8), title, fill=(0, 0, 0), font=font)
    draw.text((left, 26), f"PCA of {len(vectors)} vectors: axis 1 holds {share[0]:.0%} of the variance, "
                          f"axis 2 {share[1]:.0%}", fill=(60, 60, 60), font=font)
    shown = names if len(names) <= size // 18 else names[: size // 18 - 1]
    for index, name in enumerate(shown):
        y = top + 18 * index
        draw.ellipse([left + size + 16, y + 3, left + size + 26, y + 13], fill=COLOURS[index % len(COLOURS)])
        draw.text((left + size + 32, y), f"{name} ({counts[name]})", fill=(0, 0, 0), font=font)
    if len(shown) < len(names):
        draw.text((left + size + 32, top + 18 * len(shown)), f"... {len(names) - len(shown)} more labels",
                  fill=(60, 60, 60), font=font)
    return image
