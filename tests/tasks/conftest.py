"""Helpers of the task-data tests: fixture paths, hand-built Encodings and the original's golden renders."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from pixel.data.tasks.qa import QAExample, answer_patches, patches_text
from pixel.render.encoding import Encoding

DATA = Path(__file__).resolve().parents[1] / "data"
TASK_DATA = DATA / "tasks"
GOLDEN_RENDER = DATA / "golden" / "render"


class StubWordRenderer:
    """Word-list renderer stand-in: word i takes ceil(len/3) patches (at least 1), words start on patch
    boundaries from 0, drawing stops when the next word would not fit before the last patch (like the
    original, which keeps the last patch for the end-of-sequence separator)."""

    def __init__(self, max_seq_length: int = 16) -> None:
        self.max_seq_length = max_seq_length

    def __call__(self, words: list[str]) -> Encoding:
        starts = [0]
        for word in words:
            end = starts[-1] + max(1, math.ceil(len(word) / 3))
            if end > self.max_seq_length - 1:
                break
            starts.append(end)
        pixels = np.full((16, 16 * self.max_seq_length), 255, dtype=np.uint8)
        pixels[:, 16 * starts[-1] : 16 * (starts[-1] + 1)] = 0
        return Encoding(
            pixel_values=pixels, num_text_patches=starts[-1], sep_patches=[starts[-1]], word_starts=starts
        )


def _golden_to_encoding(encoding: dict) -> Encoding:
    shape = encoding["pixel_values"]["shape"] if "pixel_values" in encoding else [16, 16 * 529]
    overflow = [_golden_to_encoding(o) for o in encoding.get("overflowing_patches") or []]
    return Encoding(
        pixel_values=np.full(shape, 255, dtype=np.uint8),
        num_text_patches=encoding["num_text_patches"],
        sep_patches=[x // 16 for x in encoding["sep_patches"]],
        word_starts=encoding.get("word_starts"),
        offset_mapping=[tuple(o) for o in encoding["offset_mapping"]]
        if encoding.get("offset_mapping")
        else None,
        overflowing_patches=overflow or None,
    )


def golden_case(name: str) -> tuple[object, Encoding]:
    """(input, Encoding) of a golden render of the original PangoCairo renderer (pixels not loaded)."""
    case = json.loads((GOLDEN_RENDER / f"{name}.json").read_text())
    return case["input"], _golden_to_encoding(case["encoding"])


@pytest.fixture
def stub_renderer() -> StubWordRenderer:
    return StubWordRenderer()


def round_trip_answer(example: QAExample, encoding: Encoding, answer_index: int = 0) -> str | None:
    """Answer text -> patches (training targets) -> text (post-processing), for checking a renderer's offsets.

    Returns the recovered text from the first window that holds the answer, or None if none does.
    """
    start_char = example.answer_starts[answer_index] - example.context_shift
    end_char = start_char + len(example.answer_texts[answer_index])
    for window in [encoding, *(encoding.overflowing_patches or [])]:
        offsets = [tuple(o) for o in window.offset_mapping or []]
        span = answer_patches(offsets, start_char, end_char)
        if span is not None:
            return patches_text(example.rendered_context, offsets[span[0]], offsets[span[1]])
    return None
