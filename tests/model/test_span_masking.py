"""SpanMaskingGenerator against the statistics of the original (tests/data/golden/model/span-masking-stats.json)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from pixel.model.masking import PIXEL_BASE_CUMULATIVE_SPAN_WEIGHTS, SpanMaskingGenerator, span_masks

GOLDEN = json.loads((Path(__file__).parents[1] / "data/golden/model/span-masking-stats.json").read_text())
KWARGS = GOLDEN["generator_kwargs"]


def pixel_base_generator(seed: int | random.Random | None, **extra) -> SpanMaskingGenerator:
    return SpanMaskingGenerator(**KWARGS, seed=seed, **extra)


def run_lengths(mask: np.ndarray) -> list[int]:
    """Lengths of the maximal runs of ones in a 0/1 vector."""
    padded = np.concatenate([[0], mask, [0]])
    edges = np.flatnonzero(np.diff(padded))
    return list(edges[1::2] - edges[::2])


def draw(n_text: int, num_draws: int, seed: int, **extra) -> np.ndarray:
    generator = pixel_base_generator(seed, **extra)
    return np.stack([generator.gen(n_text) for _ in range(num_draws)])


def test_kwargs_are_pixel_base() -> None:
    assert tuple(KWARGS["cumulative_span_weights"]) == PIXEL_BASE_CUMULATIVE_SPAN_WEIGHTS


def test_reproduces_the_original_stream_exactly() -> None:
    """The golden run seeded Python's global `random` once and drew 20,000 masks; our own seeded
    `random.Random` makes the same draws in the same order, so every per-position rate matches exactly."""
    result = GOLDEN["results"]["20"]
    masks = draw(20, GOLDEN["num_samples"], result["seed"])
    np.testing.assert_array_equal(masks.mean(0), np.array(result["per_position_mask_rate"]))
    assert masks[:, :20].mean() == pytest.approx(result["masked_fraction_of_text_patches_mean"], abs=1e-12)


@pytest.mark.parametrize("n_text", [20, 100, 529])
def test_statistics_match_the_original(n_text: int) -> None:
    result = GOLDEN["results"][str(n_text)]
    num_draws = 1500
    masks = draw(n_text, num_draws, seed=1000 + n_text)  # other seeds than the golden: a statistical check

    # masked count: always exactly 133
    assert set(masks.sum(1).tolist()) == {int(k) for k in result["masked_count_histogram"]}

    # run-length distribution (runs of 1..6 patches); ~57k runs, correlated within a mask
    lengths = np.concatenate([run_lengths(m) for m in masks])
    golden_hist = {int(k): v for k, v in result["contiguous_run_length_histogram"].items()}
    assert lengths.max() <= max(golden_hist)
    golden_total = sum(golden_hist.values())
    for length, count in golden_hist.items():
        assert np.mean(lengths == length) == pytest.approx(count / golden_total, abs=0.01), length

    # share of text patches masked and share of masked patches outside the text
    share_text = masks[:, :n_text].mean()
    assert share_text == pytest.approx(result["masked_fraction_of_text_patches_mean"], abs=0.012)
    outside = masks[:, n_text:].sum() / masks.sum()
    assert outside == pytest.approx(result["fraction_of_masked_patches_outside_text"], abs=0.012)

    # the first span is always inside the text, so some text patch is always masked
    assert (masks[:, :n_text].sum(1) > 0).all()


def test_seeded_reproducibility_and_no_global_state() -> None:
    random.seed(5)
    before = random.random()
    random.seed(5)
    first = draw(100, 20, seed=42)
    assert random.random() == before  # the generator does not touch the global stream
    np.testing.assert_array_equal(first, draw(100, 20, seed=42))
    assert not np.array_equal(first, draw(100, 20, seed=43))
    shared = random.Random(42)
    np.testing.assert_array_equal(first, draw(100, 20, seed=shared))  # type: ignore[arg-type]


def test_text_only_keeps_every_span_inside_the_text() -> None:
    for n_text in (1, 7, 20, 100):
        masks = draw(n_text, 200, seed=n_text, text_only=True)
        assert masks[:, n_text:].sum() == 0
        counts = masks.sum(1)
        assert (counts >= 1).all()
        # capped by what fits: spans keep their spacing, so a text is never fully masked (unless 1 patch)
        assert counts.max() <= max(1, n_text - 1)
        assert max(max(run_lengths(m), default=0) for m in masks) <= 6
    # long texts still get the full budget
    assert set(draw(529, 50, seed=0, text_only=True).sum(1).tolist()) == {133}
    assert draw(0, 3, seed=0, text_only=True).sum() == 0


def test_spacing_between_spans() -> None:
    """With spacing "span" a new span of length s needs s free patches on both sides, so two neighbouring
    runs are at least as far apart as the shorter of them is long."""
    for mask in draw(529, 100, seed=3):
        padded = np.concatenate([[0], mask, [0]])
        edges = np.flatnonzero(np.diff(padded))
        starts, ends = edges[::2], edges[1::2]
        lengths = ends - starts
        gaps = starts[1:] - ends[:-1]
        assert (gaps >= np.minimum(lengths[1:], lengths[:-1])).all()


def test_span_masks_batch_and_bad_input() -> None:
    generator = pixel_base_generator(0)
    batch = span_masks(generator, [10, 529])
    assert batch.shape == (2, 529) and batch.dtype == np.float32
    with pytest.raises(ValueError, match="num_text_patches"):
        generator.gen(530)
    with pytest.raises(ValueError, match="cumulative_span_weights"):
        SpanMaskingGenerator(529, 133, 6, "span", [0.5, 1.0])
    with pytest.raises(ValueError, match="spacing"):
        SpanMaskingGenerator(529, 133, spacing="wide")
    with pytest.raises(ValueError, match="num_masking_patches"):
        SpanMaskingGenerator(10, 11)
