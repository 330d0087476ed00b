"""Reconstruction and loss-curve pictures (pixel.viz), from hand-built arrays: no model, no renderer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pixel import viz

L = 40
TEXT = 20  # text patches; the attention mask covers TEXT + 1 (end patch)


def _strip() -> np.ndarray:
    """uint8 [16, 16*L]: text patches with a patch-specific ink pattern, black end patch, white padding."""
    strip = np.full((16, 16 * L), 255, dtype=np.uint8)
    for patch in range(TEXT):
        strip[3:13, 16 * patch + 2 : 16 * patch + 4 + patch % 10] = 0
    strip[:, 16 * TEXT : 16 * (TEXT + 1)] = 0
    return strip


def _attention() -> np.ndarray:
    mask = np.zeros(L, dtype=np.float32)
    mask[: TEXT + 1] = 1
    return mask


def _mask() -> np.ndarray:
    mask = np.zeros(L, dtype=np.float32)
    mask[[1, 2, 3, 9, 20, 30, 31]] = 1  # 20 = end patch (attended), 30/31 = padding (not attended)
    return mask


def _patches(strip_u8: np.ndarray) -> np.ndarray:
    """[L, 768] in (row, column, channel) order, computed independently of the model's patchify."""
    grey = strip_u8.astype(np.float64) / 255.0
    out = np.empty((L, 768))
    for patch in range(L):
        block = grey[:, 16 * patch : 16 * (patch + 1)]
        out[patch] = np.stack([block, block, block], axis=-1).reshape(-1)
    return out


def _perfect_logits(strip_u8: np.ndarray) -> np.ndarray:
    """Norm-pix targets written out by hand: (x - mean) / sqrt(unbiased var + 1e-6)."""
    patches = _patches(strip_u8)
    mean = patches.sum(axis=1, keepdims=True) / 768
    var = ((patches - mean) ** 2).sum(axis=1, keepdims=True) / 767
    return (patches - mean) / np.sqrt(var + 1e-6)


def test_perfect_prediction_reproduces_the_input_and_paste_keeps_visible_patches():
    strip = _strip()
    rng = np.random.default_rng(0)
    logits = _perfect_logits(strip)
    rows = viz.reconstruction_rows(strip, _mask(), _attention(), logits)
    expected = np.repeat(strip[:, :, None], 3, axis=2)
    np.testing.assert_array_equal(rows["input"], expected)
    np.testing.assert_array_equal(rows["prediction"], expected)  # un-normalised with each patch's own stats

    noisy = logits + rng.normal(0, 1.0, logits.shape)
    rows = viz.reconstruction_rows(strip, _mask(), _attention(), noisy)
    pasted = (_mask() * _attention()).astype(bool)
    for patch in range(L):
        cols = slice(16 * patch, 16 * (patch + 1))
        if pasted[patch]:
            np.testing.assert_array_equal(rows["paste"][:, cols], rows["prediction"][:, cols])
            assert not np.array_equal(rows["paste"][:, cols], rows["input"][:, cols])
        else:  # visible or padding: exactly the input, masked padding (30, 31) included
            np.testing.assert_array_equal(rows["paste"][:, cols], expected[:, cols])
        masked_differs = not np.array_equal(rows["masked"][:, cols], expected[:, cols])
        assert masked_differs == bool(_mask()[patch]), patch


def test_raw_predictions_without_norm_pix_loss():
    strip = _strip()
    logits = np.full((L, 768), 0.25)
    rows = viz.reconstruction_rows(strip, _mask(), _attention(), logits, norm_pix_loss=False)
    assert (rows["prediction"] == 64).all()  # round(0.25 * 255)


def test_figure_size_rows_and_pasted_pixels():
    strip = _strip()
    logits = _perfect_logits(strip) + np.random.default_rng(1).normal(0, 1.0, (L, 768))
    image = viz.reconstruction_figure(strip, _mask(), _attention(), logits, "caption", patches_per_line=10, scale=2)
    # cropped to TEXT + 1 attended patches + 2 margin = 23 patches -> 3 lines of at most 10 patches
    layout = viz.FigureLayout(scale=2, patches_per_line=10, num_patches=23, caption_lines=0)
    assert layout.num_lines == 3
    assert image.mode == "RGB"
    assert image.size[0] == viz.MARGIN + viz.LABEL_WIDTH + 10 * 16 * 2 + viz.MARGIN
    assert image.size[1] > 3 * 4 * 32  # 3 lines of 4 rows of 32 px, plus caption and gaps

    pixels = np.asarray(image)
    rows = viz.reconstruction_rows(strip, _mask(), _attention(), logits)
    caption_lines = (image.size[1] - layout.size[1]) // viz.CAPTION_LINE_HEIGHT
    layout = viz.FigureLayout(scale=2, patches_per_line=10, num_patches=23, caption_lines=caption_lines)
    assert layout.size == image.size
    pasted = (_mask() * _attention()).astype(bool)
    for line in range(3):
        start, end = layout.patch_range(line)
        for row, name in enumerate(viz.ROW_NAMES):
            left, top, right, bottom = layout.strip_box(line, row)
            assert right - left == (end - start) * 32
            shown = pixels[top:bottom, left:right]
            np.testing.assert_array_equal(shown[::2, ::2], rows[name][:, 16 * start : 16 * end])
            np.testing.assert_array_equal(shown[1::2, 1::2], shown[::2, ::2])  # nearest x2
        left, top, right, bottom = layout.strip_box(line, viz.ROW_NAMES.index("paste"))
        for patch in range(start, end):
            if not pasted[patch]:
                x = left + (patch - start) * 32
                np.testing.assert_array_equal(
                    pixels[top:bottom:2, x : x + 32 : 2, 0], strip[:, 16 * patch : 16 * (patch + 1)]
                )


def test_figure_uncropped_single_line_and_torch_inputs():
    strip = _strip()
    pixel_values = torch.from_numpy(strip).float().div(255).expand(3, -1, -1)
    logits = torch.from_numpy(_perfect_logits(strip)).float()
    image = viz.reconstruction_figure(pixel_values, torch.from_numpy(_mask()), torch.from_numpy(_attention()),
                                      logits, crop=False, patches_per_line=None, scale=1)
    assert image.size[0] == viz.MARGIN + viz.LABEL_WIDTH + 16 * L + viz.MARGIN


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"logits": np.zeros((L, 700))}, "logits"),
        ({"logits": np.full((L, 768), np.nan)}, "NaN"),
        ({"mask": np.zeros(L - 1)}, "mask"),
        ({"attention_mask": np.full(L, 0.5)}, "0 or 1"),
        ({"pixel_values": np.zeros((16, 30), dtype=np.uint8)}, "multiple of 16"),
        ({"pixel_values": np.full((3, 16, 16 * L), 2.0)}, "[0, 1]"),
    ],
)
def test_bad_inputs_raise_clear_errors(kwargs, message):
    arguments = {"pixel_values": _strip(), "mask": _mask(), "attention_mask": _attention(),
                 "logits": np.zeros((L, 768))}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        viz.reconstruction_figure(**arguments)


def test_random_patch_mask_is_seeded_and_hits_the_text():
    for seed in range(20):
        mask = viz.random_patch_mask(529, 133, 3, seed)
        assert mask.sum() == 133 and mask[:3].sum() >= 1
    np.testing.assert_array_equal(viz.random_patch_mask(529, 133, 50, 7), viz.random_patch_mask(529, 133, 50, 7))
    assert not np.array_equal(viz.random_patch_mask(529, 133, 50, 7), viz.random_patch_mask(529, 133, 50, 8))


def test_loss_curve_figure_draws_both_series_and_skips_non_finite():
    steps = list(range(50))
    losses = [1.0 / (1 + s) for s in steps]
    losses[10] = float("nan")
    image = viz.loss_curve_figure(steps, losses, val=([0, 25, 49], [1.0, 0.1, 0.05]), size=(400, 300))
    assert image.size == (400, 300)
    pixels = np.asarray(image).reshape(-1, 3)
    colours = {tuple(p) for p in pixels.tolist()}
    assert (31, 119, 180) in colours and (255, 127, 14) in colours


@pytest.mark.parametrize(
    ("steps", "losses", "message"),
    [([1, 2], [1.0], "differ in length"), ([1], [float("inf")], "no finite"), ([], [], "no finite")],
)
def test_loss_curve_bad_inputs(steps, losses, message):
    with pytest.raises(ValueError, match=message):
        viz.loss_curve_figure(steps, losses)
