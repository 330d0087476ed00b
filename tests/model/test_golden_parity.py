"""Parity with the original PIXEL code: the golden tiny checkpoint and its saved inputs and outputs.

Golden arrays come from running the original (see tests/data/golden/README.md); nothing here is produced by
the code under test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from pixel.model.layers import sincos_position_table
from pixel.model.pixel import PIXELForPreTraining, PIXELModel

GOLDEN = Path(__file__).parents[1] / "data" / "golden" / "model"
TINY = GOLDEN / "tiny-pixel"
ATOL = 1e-5


def load_npz(name: str) -> dict[str, np.ndarray]:
    with np.load(GOLDEN / name, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def t(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(array)


@pytest.fixture(scope="module")
def pretraining_model() -> PIXELForPreTraining:
    return PIXELForPreTraining.from_pretrained(TINY)


def kept_ids(ids_restore: torch.Tensor, len_keep: int) -> np.ndarray:
    return torch.argsort(ids_restore, dim=1)[:, :len_keep].numpy()


def test_span_masked_forward_matches_with_the_same_noise(pretraining_model: PIXELForPreTraining) -> None:
    case = load_npz("tiny-case.npz")
    with torch.no_grad():
        out = pretraining_model(
            t(case["pixel_values"]),
            t(case["attention_mask"]),
            t(case["patch_mask"]),
            noise=t(case["controlled_noise"]),
            output_hidden_states=True,
        )
    np.testing.assert_array_equal(out.mask.numpy(), case["mask"])
    np.testing.assert_array_equal(out.ids_restore.numpy(), case["ids_restore"])
    np.testing.assert_array_equal(kept_ids(out.ids_restore, 396), case["ids_keep"])
    np.testing.assert_allclose(out.logits.numpy(), case["logits"], atol=ATOL, rtol=0)
    np.testing.assert_allclose(out.loss.item(), case["loss"], atol=ATOL, rtol=0)
    encoder_states = np.stack([h.numpy() for h in out.hidden_states])
    np.testing.assert_allclose(encoder_states, case["encoder_hidden_states"], atol=ATOL, rtol=0)
    decoder_states = np.stack([h.numpy() for h in out.decoder_hidden_states])
    np.testing.assert_allclose(decoder_states, case["decoder_hidden_states"], atol=ATOL, rtol=0)
    encoded = pretraining_model.forward_encoder(
        t(case["pixel_values"]),
        t(case["attention_mask"]),
        t(case["patch_mask"]),
        noise=t(case["controlled_noise"]),
    )
    np.testing.assert_allclose(
        encoded.last_hidden_state.detach().numpy(), case["last_hidden_state"], atol=ATOL, rtol=0
    )


def test_span_masked_forward_is_noise_free_when_133_patches_are_marked(
    pretraining_model: PIXELForPreTraining,
) -> None:
    # With exactly 133 ones in patch_mask the kept set, logits and loss do not depend on the noise draw.
    case = load_npz("tiny-case.npz")
    assert (case["patch_mask"].sum(axis=1) == 133).all()
    torch.manual_seed(0)
    with torch.no_grad():
        out = pretraining_model(t(case["pixel_values"]), t(case["attention_mask"]), t(case["patch_mask"]))
    np.testing.assert_array_equal(out.mask.numpy(), case["mask"])
    np.testing.assert_array_equal(np.sort(kept_ids(out.ids_restore, 396)), np.sort(case["ids_keep"]))
    np.testing.assert_allclose(out.logits.numpy(), case["logits"], atol=ATOL, rtol=0)
    np.testing.assert_allclose(out.loss.item(), case["loss"], atol=ATOL, rtol=0)


def test_random_masking_matches_given_the_noise(pretraining_model: PIXELForPreTraining) -> None:
    case = load_npz("tiny-case-randommask.npz")
    with torch.no_grad():
        out = pretraining_model(
            t(case["pixel_values"]), t(case["attention_mask"]), noise=t(case["random_noise"])
        )
        encoded = pretraining_model.forward_encoder(
            t(case["pixel_values"]), t(case["attention_mask"]), noise=t(case["random_noise"])
        )
    np.testing.assert_array_equal(kept_ids(out.ids_restore, 396), case["ids_keep"])
    np.testing.assert_array_equal(out.mask.numpy(), case["mask"])
    assert (out.mask.numpy()[np.arange(3), case["forced_masked_index"]] == 1).all()
    np.testing.assert_allclose(
        encoded.last_hidden_state.numpy(), case["last_hidden_state"], atol=ATOL, rtol=0
    )
    masked_logits = np.stack([out.logits[b, out.mask[b] == 1].numpy() for b in range(3)])
    np.testing.assert_allclose(masked_logits, case["logits_at_masked"], atol=ATOL, rtol=0)
    np.testing.assert_allclose(out.loss.item(), case["loss"], atol=ATOL, rtol=0)


def test_unmasked_encoder_gives_patches_in_natural_order() -> None:
    case = load_npz("tiny-encoder-nomask.npz")
    encoder = PIXELModel.from_pretrained(TINY)
    with torch.no_grad():
        out = encoder(t(case["pixel_values"]), t(case["attention_mask"]), output_hidden_states=True)
    assert out.mask is None and out.ids_restore is None
    np.testing.assert_allclose(
        out.last_hidden_state.numpy(), case["last_hidden_state_unshuffled"], atol=ATOL, rtol=0
    )
    # The original's per-layer states are in its shuffled order: token 1 + j is patch ids_shuffle[j].
    ids_shuffle = np.argsort(case["ids_restore"], axis=1)
    for ours, theirs in zip(out.hidden_states, case["encoder_hidden_states"], strict=True):
        for b in range(3):
            np.testing.assert_allclose(ours[b, 0].numpy(), theirs[b, 0], atol=ATOL, rtol=0)
            np.testing.assert_allclose(ours[b, 1 + ids_shuffle[b]].numpy(), theirs[b, 1:], atol=ATOL, rtol=0)


def test_stored_position_tables_are_the_23x23_sincos_tables(pretraining_model: PIXELForPreTraining) -> None:
    state = pretraining_model.state_dict()
    torch.testing.assert_close(
        state["vit.embeddings.position_embeddings"], sincos_position_table(32, 529), atol=0, rtol=0
    )
    torch.testing.assert_close(
        state["decoder.decoder_pos_embed"], sincos_position_table(16, 529), atol=0, rtol=0
    )


def test_sincos_layout_by_hand() -> None:
    # Patch i sits at column i % 23, row i // 23; first half of the dims: column, second half: row;
    # per half D/4 sines then D/4 cosines of pos / 10000^(k / (D/4)).
    table = sincos_position_table(8, 529)[0].double()
    assert torch.equal(table[0], torch.zeros(8))
    omega = torch.tensor([1.0, 1.0 / 100.0], dtype=torch.float64)

    def half(pos: float) -> torch.Tensor:
        return torch.cat([torch.sin(pos * omega), torch.cos(pos * omega)])

    for patch in (0, 1, 22, 23, 24, 100, 528):
        expected = torch.cat([half(patch % 23), half(patch // 23)])
        torch.testing.assert_close(table[1 + patch], expected, atol=1e-6, rtol=0)
