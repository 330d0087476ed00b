"""Span masking of rendered text strips for PIXEL pretraining (spec 2.2, `SpanMaskingGenerator`).

`SpanMaskingGenerator(num_patches, num_masking_patches, ...).gen(num_text_patches)` returns a 0/1 array
`[num_patches]` (1 = mask this patch) that the model turns into its `patch_mask`. The algorithm is the
original's, draw for draw: each round makes up to 100 attempts; an attempt draws a span length from
`cumulative_span_weights` and a left edge, rejects the span if a masked patch lies within `spacing` patches
(or, with `spacing="span"`, within span-length patches) on either side, and accepts it if it adds between 1
and `min(remaining budget, max_span_length)` new patches; the call ends when the budget is reached or a round
adds nothing. The draws come from the generator's own `random.Random`, in the same order as the original
code used the global `random` module, so `SpanMaskingGenerator(..., seed=s)` reproduces the original's masks
after `random.seed(s)` exactly; nothing touches global random state.

Behaviour of the original kept by default (`text_only=False`), worth knowing before pretraining with it:
only the very FIRST span of a call is placed inside the text (`left` drawn from `[0, num_text_patches -
span]`); every later span starts anywhere in the strip, padding included. The budget is a share of ALL
patches (133 of 529 for pixel-base), not of the text. For short texts most masked patches therefore land on
padding: for a 20-patch text about 96 % of the 133 masked patches lie outside the text and ~29 % of the text
patches are masked; for 100 patches ~81 % lie outside (golden statistics of the original, 20,000 draws).
The pretraining loss counts only masked patches inside the attention mask, so padding spans are wasted.

`text_only=True` places every span inside the first `num_text_patches` patches (spans longer than the text
are rejected). The budget stays `num_masking_patches` but is capped by what fits: with span spacing at most
about half of a text can be masked, and the call ends as soon as 100 attempts in a row add nothing, so short
texts get fewer masked patches than the budget. (The model's controlled masking then removes extra random
patches to reach its fixed count; see `PIXELForPreTraining`.)
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np

_ATTEMPTS_PER_SPAN = 100

#: Span-length distribution used to pretrain pixel-base: P(1..6) = .2 .2 .2 .2 .1 .1.
PIXEL_BASE_CUMULATIVE_SPAN_WEIGHTS = (0.2, 0.4, 0.6, 0.8, 0.9, 1.0)


class SpanMaskingGenerator:
    """Draws span masks over a strip of `num_patches` patches.

    Args:
        num_patches: patches in the strip (529 for pixel-base).
        num_masking_patches: patches to mask per call (`ceil(mask_ratio * num_patches)`, 133 for pixel-base).
        max_span_length: longest span; span lengths are 1..max_span_length.
        spacing: unmasked patches required on both sides of a new span: an int, or "span" for as many as
            the span is long (pixel-base pretraining used "span").
        cumulative_span_weights: cumulative weights of the span lengths 1..max_span_length (as
            `random.choices(cum_weights=...)`); None = uniform.
        seed: int seed of the generator's own `random.Random`, or a `random.Random` to draw from.
        text_only: place every span inside the text (see the module docstring); False = the original.
    """

    def __init__(
        self,
        num_patches: int,
        num_masking_patches: int = 1,
        max_span_length: int = 6,
        spacing: int | str = 0,
        cumulative_span_weights: Sequence[float] | None = None,
        *,
        seed: int | random.Random | None = None,
        text_only: bool = False,
    ) -> None:
        if num_patches < 1:
            raise ValueError(f"num_patches must be >= 1, got {num_patches}")
        if not 0 <= num_masking_patches <= num_patches:
            raise ValueError(
                f"num_masking_patches must be in [0, num_patches={num_patches}], got {num_masking_patches}"
            )
        if max_span_length < 1:
            raise ValueError(f"max_span_length must be >= 1, got {max_span_length}")
        if not (
            spacing == "span" or (isinstance(spacing, int) and not isinstance(spacing, bool) and spacing >= 0)
        ):
            raise ValueError(f"spacing must be a non-negative int or 'span', got {spacing!r}")
        if cumulative_span_weights is not None:
            weights = [float(w) for w in cumulative_span_weights]
            if len(weights) != max_span_length:
                raise ValueError(
                    f"cumulative_span_weights needs one weight per span length 1..{max_span_length}, "
                    f"got {len(weights)}"
                )
            if any(b < a for a, b in zip(weights, weights[1:], strict=False)) or weights[-1] <= 0:
                raise ValueError(f"cumulative_span_weights must be non-decreasing and end > 0, got {weights}")
            cumulative_span_weights = weights
        self.num_patches = num_patches
        self.num_masking_patches = num_masking_patches
        self.max_span_length = max_span_length
        self.spacing = spacing
        self.cumulative_span_weights = cumulative_span_weights
        self.span_range = range(1, max_span_length + 1)
        self.text_only = text_only
        self.rng = seed if isinstance(seed, random.Random) else random.Random(seed)

    def __repr__(self) -> str:
        return (
            f"SpanMaskingGenerator(num_patches={self.num_patches}, num_masking_patches={self.num_masking_patches}, "
            f"max_span_length={self.max_span_length}, spacing={self.spacing!r}, "
            f"cumulative_span_weights={self.cumulative_span_weights}, text_only={self.text_only})"
        )

    def gen(self, num_text_patches: int) -> np.ndarray:
        """One mask `[num_patches]` int64 of 0/1 for a text covering the first `num_text_patches` patches.

        The original pretraining script passes the renderer's `num_text_patches + 1` (text plus the black
        end-of-sequence patch).
        """
        if not 0 <= num_text_patches <= self.num_patches:
            raise ValueError(
                f"num_text_patches must be in [0, num_patches={self.num_patches}], got {num_text_patches}"
            )
        mask = bytearray(self.num_patches)
        budget = self.num_masking_patches
        if self.text_only:
            budget = min(budget, num_text_patches)
        state = {"first_left_in_text": True}
        masked = 0
        while masked < budget:
            added = self._add_span(mask, min(budget - masked, self.max_span_length), num_text_patches, state)
            if added == 0:
                break
            masked += added
        return np.frombuffer(bytes(mask), dtype=np.uint8).astype(np.int64)

    __call__ = gen

    def _add_span(self, mask: bytearray, max_new: int, num_text_patches: int, state: dict[str, bool]) -> int:
        """Tries up to 100 spans; marks the first acceptable one in `mask`; returns patches newly masked."""
        rng = self.rng
        n = self.num_patches
        for _ in range(_ATTEMPTS_PER_SPAN):
            span = rng.choices(self.span_range, cum_weights=self.cumulative_span_weights, k=1)[0]
            if span >= n:  # the original skips spans as long as the strip (no draw of `left`)
                continue
            if self.text_only:
                if span > num_text_patches:
                    continue
                left = rng.randint(0, num_text_patches - span)
            elif state["first_left_in_text"]:
                left = rng.randint(0, max(0, num_text_patches - span))
            else:
                left = rng.randint(0, n - span)
            state["first_left_in_text"] = False
            space = span if self.spacing == "span" else int(self.spacing)
            if space and (
                any(mask[max(0, left - space) : left]) or any(mask[left + span : left + span + space])
            ):
                continue
            new = span - sum(mask[left : left + span])
            if 0 < new <= max_new:
                mask[left : left + span] = b"\x01" * span
                return new
        return 0


def span_masks(generator: SpanMaskingGenerator, num_text_patches: Sequence[int]) -> np.ndarray:
    """Masks `[B, num_patches]` float32 (the model's `patch_mask`), one `generator.gen` call per example."""
    return np.stack([generator.gen(int(n)) for n in num_text_patches]).astype(np.float32)
