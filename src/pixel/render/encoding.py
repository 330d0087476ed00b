"""The one output type of every renderer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Encoding:
    """A rendered text strip and what is known about its layout.

    pixel_values: uint8 [16, W] (grey, 255 = white background, 0 = ink / black separator patch),
        or uint8 [16, W, 3] when the renderer was built with ``rgb=True``. W = 16 * max_seq_length.
    num_text_patches: patches holding text, counted as the original does (the black end patch
        follows them; the attention mask covers num_text_patches + 1 patches).
    sep_patches: patch *indices* of the black separator/end patches (one unit for both renderers;
        the original PangoCairo renderer stored pixel offsets).
    word_starts: word-list mode only: patch index where each word starts, plus a final entry equal to
        num_text_patches.
    offset_mapping: pair mode with ``return_offset_mapping=True``: one ``(char_start, char_end)`` per patch
        (``(0, 0)`` for separators and padding, ``(-1, -1)`` for a blank patch before a separator).
    overflowing_patches: further windows of a long second text (QA), each an Encoding.
    sequence_ids: pair mode: per patch 0 (text_a), 1 (text_b) or None (separator, padding).
    unrenderable_chars: characters that no available font could draw (drawn as boxes).
    """

    pixel_values: np.ndarray
    num_text_patches: int
    sep_patches: list[int] = field(default_factory=list)
    word_starts: list[int] | None = None
    offset_mapping: list[tuple[int, int]] | None = None
    overflowing_patches: list[Encoding] | None = None
    sequence_ids: list[int | None] | None = None
    unrenderable_chars: list[str] = field(default_factory=list)

    @property
    def num_patches(self) -> int:
        """Total patches of the strip (= max_seq_length of the renderer)."""
        return self.pixel_values.shape[1] // self.pixel_values.shape[0]

    @property
    def attention_mask(self) -> np.ndarray:
        """float32 [num_patches]: ones on the first min(num_text_patches + 1, num_patches) patches."""
        return attention_masks([self.num_text_patches], self.num_patches)[0]


def attention_masks(num_text_patches: Sequence[int] | np.ndarray, num_patches: int) -> np.ndarray:
    """float32 [B, num_patches]: row b has ones on its first min(num_text_patches[b] + 1, num_patches) patches."""
    counts = np.minimum(np.asarray(num_text_patches, dtype=np.int64) + 1, num_patches)
    return (np.arange(num_patches)[None, :] < counts[:, None]).astype(np.float32)
