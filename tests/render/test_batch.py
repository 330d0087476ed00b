"""Batches of rendered texts and their conversion to model inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pixel.render.base import DEFAULT_FONT_FILE
from pixel.render.batch import (
    RenderedBatch,
    attention_masks,
    collate,
    render_batch,
    to_model_inputs,
)
from pixel.render.encoding import Encoding
from pixel.render.pygame import PyGameTextRenderer


@pytest.fixture(scope="module")
def renderer() -> PyGameTextRenderer:
    return PyGameTextRenderer(DEFAULT_FONT_FILE, max_seq_length=64)


def test_render_batch_stacks_all_modes(renderer: PyGameTextRenderer) -> None:
    texts = ["Hello world!", ("What?", "This."), ["some", "words", "here"], ""]
    batch = render_batch(renderer, texts)

    assert len(batch) == 4
    assert batch.pixel_values.dtype == np.uint8 and batch.pixel_values.shape == (4, 16, 1024)
    assert batch.attention_mask.dtype == np.float32 and batch.attention_mask.shape == (4, 64)
    assert batch.num_text_patches.dtype == np.int64
    for row, text in enumerate(texts):
        encoding = renderer(text)
        assert np.array_equal(batch.pixel_values[row], encoding.pixel_values)
        assert batch.num_text_patches[row] == encoding.num_text_patches
        ones = encoding.num_text_patches + 1
        assert batch.attention_mask[row, :ones].tolist() == [1.0] * ones
        assert not batch.attention_mask[row, ones:].any()


def test_attention_mask_is_capped_at_the_strip_length() -> None:
    masks = attention_masks([0, 3, 7, 8], num_patches=8)
    assert masks.tolist() == [
        [1, 0, 0, 0, 0, 0, 0, 0],
        [1, 1, 1, 1, 0, 0, 0, 0],
        [1] * 8,
        [1] * 8,
    ]


def test_collate_rejects_mixed_strip_sizes(renderer: PyGameTextRenderer) -> None:
    other = PyGameTextRenderer(DEFAULT_FONT_FILE, max_seq_length=32)
    with pytest.raises(ValueError, match="encoding 1"):
        collate([renderer("a"), other("a")])
    with pytest.raises(ValueError, match="0 encodings"):
        collate([])
    with pytest.raises(TypeError, match="list"):
        render_batch(renderer, "a single string")


def test_to_model_inputs_maps_0_and_255_to_0_and_1_on_three_equal_channels() -> None:
    grey = np.array([[[0, 255, 51, 255]] * 2], dtype=np.uint8)  # [1, 2, 4]
    values = to_model_inputs(grey)
    assert values.dtype == torch.float32 and values.shape == (1, 3, 2, 4)
    assert values[0, 0, 0].tolist() == pytest.approx([0.0, 1.0, 0.2, 1.0])
    assert torch.equal(values[:, 0], values[:, 1]) and torch.equal(values[:, 0], values[:, 2])
    assert values.is_contiguous()


def test_to_model_inputs_of_a_batch(renderer: PyGameTextRenderer) -> None:
    batch = render_batch(renderer, ["Hello", "world"])
    values = to_model_inputs(batch, device="cpu")
    assert values.shape == (2, 3, 16, 1024)
    expected = torch.from_numpy(batch.pixel_values).float() / 255
    assert torch.equal(values[:, 2], expected)
    assert float(values.min()) == 0.0 and float(values.max()) == 1.0  # black end patch, white background
    half = to_model_inputs(torch.from_numpy(batch.pixel_values), dtype=torch.bfloat16)
    assert half.dtype == torch.bfloat16


def test_to_model_inputs_of_rgb_images_moves_channels_first() -> None:
    rgb = np.zeros((1, 2, 3, 3), dtype=np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 0, 255, 51
    values = to_model_inputs(rgb)
    assert values.shape == (1, 3, 2, 3)
    assert values[0, :, 0, 0].tolist() == pytest.approx([0.0, 1.0, 0.2])


def test_to_model_inputs_rejects_what_is_not_a_uint8_batch() -> None:
    with pytest.raises(ValueError, match="uint8"):
        to_model_inputs(np.zeros((1, 16, 32), dtype=np.float32))
    with pytest.raises(ValueError, match="batch"):
        to_model_inputs(np.zeros((16, 32), dtype=np.uint8))
    with pytest.raises(TypeError):
        to_model_inputs([[0, 1]])


def test_rendered_batch_from_encodings_keeps_unrenderable_chars() -> None:
    encodings = {
        "中": Encoding(pixel_values=np.full((16, 64), 255, np.uint8), num_text_patches=1, unrenderable_chars=["中"]),
        "ab": Encoding(pixel_values=np.full((16, 64), 255, np.uint8), num_text_patches=2),
    }
    batch = render_batch(encodings.get, ["中", "ab"])
    assert isinstance(batch, RenderedBatch)
    assert batch.unrenderable_chars == [["中"], []]
    assert batch.attention_mask.sum(axis=1).tolist() == [2.0, 3.0]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_to_model_inputs_lands_on_the_device(renderer: PyGameTextRenderer) -> None:
    batch = render_batch(renderer, ["Hello", "world"])
    values = to_model_inputs(batch, device="cuda")
    assert values.device.type == "cuda" and values.dtype == torch.float32
    assert torch.equal(values.cpu(), to_model_inputs(batch))
