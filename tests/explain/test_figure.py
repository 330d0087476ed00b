"""The relevance picture: jet colours, min-max normalisation over the text patches, overlay, size, caption."""

from __future__ import annotations

import numpy as np
import pytest

from pixel.explain.figure import OVERLAY_ALPHA, heat_colours, normalised, overlay_strip, relevance_figure
from pixel.explain.relevance import Relevance
from pixel.render.encoding import Encoding
from pixel.viz import MARGIN


def white_map(values, num_text_patches: int, **fields) -> Relevance:
    length = len(values)
    encoding = Encoding(pixel_values=np.full((16, 16 * length), 255, np.uint8), num_text_patches=num_text_patches)
    defaults = dict(method="chefer", read_out="cls", label="pos", label_id=1, probability=0.75, text="x")
    return Relevance(values=np.asarray(values, np.float32), encoding=encoding,
                     attention_mask=encoding.attention_mask, **{**defaults, **fields})


def test_jet_ends_and_middle():
    assert heat_colours(np.array([0.0, 0.5, 1.0, -3.0, 7.0])).tolist() == [
        [0, 0, 128], [128, 255, 128], [128, 0, 0], [0, 0, 128], [128, 0, 0]]


def test_normalised_over_text_patches_only():
    map_ = white_map([2.0, 4.0, 3.0, 0.0, 0.0, 0.0], num_text_patches=2)  # mask: patches 0-2
    np.testing.assert_allclose(normalised(map_), [0.0, 1.0, 0.5, 0.0, 0.0, 0.0])
    flat = white_map([1.0, 1.0, 1.0, 0.0], num_text_patches=2)
    assert (normalised(flat) == 0).all()


def test_overlay_colours_each_patch_and_keeps_the_grid():
    scale = 2
    map_ = white_map([0.0, 1.0, 0.5, 0.0], num_text_patches=2)
    strip = overlay_strip(map_, shown=3, scale=scale)
    assert strip.shape == (16 * scale, 3 * 16 * scale, 3)
    for patch, value in enumerate([0.0, 1.0, 0.5]):
        inside = strip[10, patch * 32 + 10]
        expected = np.round((1 - OVERLAY_ALPHA) * 255 + OVERLAY_ALPHA * heat_colours(np.array([value]))[0])
        assert inside.tolist() == expected.astype(int).tolist()
    assert strip[5, 32].tolist() == [80, 150, 255]  # the blue grid line at the start of patch 1


def test_figure_size_and_errors():
    maps = [white_map([0.0, 1.0, 0.5, 0.2, 0.0, 0.0], num_text_patches=3, patch=p, word=p, text=list("abcd"))
            for p in range(3)]
    image = relevance_figure(maps, "a b c d", scale=2, patches_per_line=3)
    assert image.size[0] == 2 * MARGIN + 3 * 32  # 4 attended patches wrapped after 3
    taller = relevance_figure(maps, "a b c d", scale=2, patches_per_line=64)
    assert taller.size[0] == 2 * MARGIN + 4 * 32 and taller.size[1] < image.size[1]
    with pytest.raises(ValueError, match="no relevance map"):
        relevance_figure([])
    with pytest.raises(ValueError, match="scale"):
        relevance_figure(maps, scale=0)
