"""pixel.viz.reconstruct on a tiny PIXELForPreTraining with a stub renderer (no fonts, no Pango)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pixel.model.config import PIXELConfig
from pixel.model.pixel import PIXELForPreTraining
from pixel.render.encoding import Encoding
from pixel.viz import reconstruct


class StubRenderer:
    """Draws one vertical bar per character (varying width), then the black end patch."""

    def __init__(self, max_seq_length: int = 100) -> None:
        self.max_seq_length = max_seq_length

    def __call__(self, text: str) -> Encoding:
        pixels = np.full((16, 16 * self.max_seq_length), 255, dtype=np.uint8)
        num_text = min(max(1, len(text)), self.max_seq_length - 1)
        for index, char in enumerate(text[:num_text]):
            pixels[3:13, 16 * index + 4 : 16 * index + 5 + ord(char) % 9] = 0
        pixels[:, 16 * num_text : 16 * (num_text + 1)] = 0
        return Encoding(pixel_values=pixels, num_text_patches=num_text)


@pytest.fixture(scope="module")
def model() -> PIXELForPreTraining:
    torch.manual_seed(0)
    return PIXELForPreTraining(PIXELConfig.variant("tiny", image_size=[16, 16 * 100]))


def _norm_pix_loss(details) -> float:
    """The pretraining loss written out: per-patch MSE against standardised targets, masked text patches."""
    strip = details.pixel_values.astype(np.float64)  # [3, 16, W]
    patches = strip.reshape(3, 16, -1, 16).transpose(2, 1, 3, 0).reshape(-1, 768)
    target = (patches - patches.mean(1, keepdims=True)) / np.sqrt(patches.var(1, ddof=1, keepdims=True) + 1e-6)
    per_patch = ((details.logits.astype(np.float64) - target) ** 2).mean(1)
    weight = details.mask * details.attention_mask
    return float((per_patch * weight).sum() / weight.sum())


@pytest.mark.parametrize("span", [True, False])
def test_reconstruct_returns_picture_loss_and_details(model, span):
    rng_before = torch.random.get_rng_state()
    image, loss, details = reconstruct(model, StubRenderer(), "hello pixel world", span=span, seed=3)
    assert torch.equal(rng_before, torch.random.get_rng_state())  # global random state untouched
    assert np.isfinite(loss) and loss > 0
    assert details.logits.shape == (100, 768)
    assert details.mask.sum() == 100 - int(100 * 0.75)
    assert (details.mask >= details.patch_mask).all()  # every requested patch is removed
    assert details.masked_text_patches == int((details.mask * details.attention_mask).sum()) >= 1
    assert loss == pytest.approx(_norm_pix_loss(details), rel=1e-4)
    assert image.mode == "RGB" and image.size[0] > 16 * 18  # cropped to 17 text + end + margin patches
    assert any("loss" in line and f"{loss:.4f}" in line for line in details.caption)


def test_reconstruct_is_seeded_and_leaves_the_model_alone(model):
    model.train()
    _, loss_a, details_a = reconstruct(model, StubRenderer(), "abcdefghij" * 3, seed=5)
    _, loss_b, details_b = reconstruct(model, StubRenderer(), "abcdefghij" * 3, seed=5)
    _, _, details_c = reconstruct(model, StubRenderer(), "abcdefghij" * 3, seed=6)
    assert loss_a == loss_b
    np.testing.assert_array_equal(details_a.mask, details_b.mask)
    assert not np.array_equal(details_a.patch_mask, details_c.patch_mask)
    assert model.training and model.config.mask_ratio == 0.25


def test_reconstruct_at_a_shorter_sequence_length(model):
    renderer = StubRenderer()
    _, loss, details = reconstruct(model, renderer, "short text", mask_ratio=0.5, max_seq_length=20, seed=0)
    assert details.pixel_values.shape == (3, 16, 16 * 20) and details.logits.shape == (20, 768)
    assert details.mask.sum() == 20 - int(20 * 0.5)
    assert np.isfinite(loss)
    # the caller's model and renderer keep their length
    assert model.config.num_patches == 100 and renderer.max_seq_length == 100
    assert model.vit.embeddings.position_embeddings.shape[1] == 101


@pytest.mark.parametrize("ratio", [0.0, 1.0, -0.1, float("nan")])
def test_reconstruct_rejects_bad_mask_ratios(model, ratio):
    with pytest.raises(ValueError, match="mask_ratio"):
        reconstruct(model, StubRenderer(), "text", mask_ratio=ratio)


def test_a_mask_that_misses_the_text_is_an_error_not_nan(model):
    # One masked patch of 100: span masking places it in the text only by chance; never a NaN loss.
    outcomes = set()
    for seed in range(12):
        try:
            _, loss, details = reconstruct(model, StubRenderer(), "text", mask_ratio=0.01, seed=seed)
            assert np.isfinite(loss) and details.masked_text_patches == 1
            outcomes.add("hit")
        except ValueError as err:
            assert "no masked patch fell on the text" in str(err)
            outcomes.add("miss")
    assert outcomes == {"hit", "miss"}


def test_single_patch_spans_as_pixel_tiny_was_trained(model):
    _, _, details = reconstruct(model, StubRenderer(), "x" * 60, max_span_length=1, seed=2)
    requested = details.patch_mask.astype(bool)
    assert requested.sum() > 5 and not (requested[1:] & requested[:-1]).any()  # never two in a row
    with pytest.raises(ValueError, match="max_span_length"):
        reconstruct(model, StubRenderer(), "text", max_span_length=7)
