"""Sequence-length changes: truncation as the original, linear interpolation along the strip when longer."""

from __future__ import annotations

import pytest
import torch

from pixel.model.config import PIXELConfig
from pixel.model.pixel import PIXELForPreTraining
from pixel.model.resize import resize_position_embeddings, resize_position_table


def test_shorter_keeps_the_first_rows() -> None:
    table = torch.randn(1, 530, 8)
    resized = resize_position_table(table, 256)
    assert torch.equal(resized, table[:, :257])


def test_longer_interpolates_along_the_strip() -> None:
    table = torch.randn(1, 5, 3)  # CLS + 4 patches
    resized = resize_position_table(table, 7)  # 4 -> 7 patches: old patch k lands on new patch 2k
    assert resized.shape == (1, 8, 3)
    assert torch.equal(resized[:, 0], table[:, 0])
    for k in range(4):
        torch.testing.assert_close(resized[:, 1 + 2 * k], table[:, 1 + k])
    for k in range(3):
        torch.testing.assert_close(resized[:, 2 + 2 * k], (table[:, 1 + k] + table[:, 2 + k]) / 2)


def test_bad_lengths() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        resize_position_table(torch.zeros(1, 5, 3), 0)
    with pytest.raises(ValueError, match=r"\[1, 1 \+ L, D\]"):
        resize_position_table(torch.zeros(5, 3), 2)


def test_model_resize_in_place_both_ways() -> None:
    config = PIXELConfig(
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        decoder_hidden_size=8,
        decoder_num_hidden_layers=1,
        decoder_num_attention_heads=2,
        decoder_intermediate_size=16,
        image_size=[16, 16 * 16],
    )
    model = PIXELForPreTraining(config)
    before = model.vit.embeddings.position_embeddings.detach().clone()
    assert resize_position_embeddings(model, 9) is model
    assert model.config.image_size == [16, 144] and model.vit.num_patches == 9
    assert torch.equal(model.vit.embeddings.position_embeddings, before[:, :10])
    assert model.decoder.decoder_pos_embed.shape == (1, 10, 8)
    assert not model.vit.embeddings.position_embeddings.requires_grad
    out = model(torch.rand(1, 3, 16, 144), torch.ones(1, 9))
    assert out.logits.shape == (1, 9, 768)
    resize_position_embeddings(model, 20)
    assert model.config.num_patches == 20 and model.decoder.decoder_pos_embed.shape == (1, 21, 8)
    assert torch.isfinite(model(torch.rand(1, 3, 16, 320)).loss)
