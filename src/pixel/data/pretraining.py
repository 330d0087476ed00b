"""On-the-fly pretraining data: pack text, render it and draw span masks inside DataLoader workers.

Sharding. The packed examples of the (endless, epoch after epoch) text stream are numbered 0, 1, 2, ...
Micro-batch k of the whole job holds examples [k * G, (k + 1) * G) with G = batch_size * world_size; rank r
takes the r-th slice of batch_size, and on each rank batch k is built by DataLoader worker
(k - start_batch) % num_workers, which is the order in which the DataLoader hands batches out. So every example
is used exactly once per epoch, a run with 2 ranks sees the same global batches as a run with 1 rank and twice
the batch, and resuming at batch k is exact. Every worker packs the whole stream (cheap: widths only) but
renders only its own examples.

Randomness. The span mask of example i is drawn from a generator seeded by (seed, i), so it does not depend on
ranks, workers or resumption.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from pixel.data.text import TextSource, pack_lines, renderer_width_fn
from pixel.model.masking import PIXEL_BASE_CUMULATIVE_SPAN_WEIGHTS
from pixel.render.batch import collate

# The original left 32 px of slack when packing (spec 1.5).
PACKING_SLACK_PIXELS = 32


def example_seed(seed: int, index: int) -> int:
    """A 63-bit seed for example ``index`` of a run with ``seed`` (independent streams per example)."""
    return int(np.random.SeedSequence([seed, index]).generate_state(2, np.uint64)[0] >> np.uint64(1))


class SpanMasker:
    """Span masks as the original pretraining: mask_ratio of all patches, spans of 1..max_span_length."""

    def __init__(self, num_patches: int, mask_ratio: float = 0.25, max_span_length: int = 6,
                 cumulative_span_weights: tuple[float, ...] = PIXEL_BASE_CUMULATIVE_SPAN_WEIGHTS):
        self.num_patches = num_patches
        self.num_masking_patches = math.ceil(mask_ratio * num_patches)
        self.max_span_length = max_span_length
        self.cumulative_span_weights = list(cumulative_span_weights)

    def __call__(self, num_text_patches: int, seed: int) -> np.ndarray:
        """float32 [num_patches], 1 = masked, for a text of num_text_patches (+1 end patch)."""
        from pixel.model.masking import SpanMaskingGenerator

        generator = SpanMaskingGenerator(
            num_patches=self.num_patches, num_masking_patches=self.num_masking_patches,
            max_span_length=self.max_span_length, spacing="span",
            cumulative_span_weights=self.cumulative_span_weights, seed=seed)
        return np.asarray(generator.gen(num_text_patches + 1), dtype=np.float32)


class PretrainingDataset(IterableDataset):
    """Yields ready micro-batches (use ``DataLoader(dataset, batch_size=None, num_workers=...)``).

    Each batch (`pixel.render.batch.collate`): ``pixel_values`` uint8 [b, 16, 16*L] (or [b, 16, 16*L, 3] for
    rgb renderers), ``attention_mask`` float32 [b, L], ``num_text_patches`` int64 [b], ``patch_mask`` float32
    [b, L] (1 = masked), ``example_index`` int64 [b] (position in the packed stream, for checks).
    repeat=True cycles over the source forever (training); repeat=False stops after one pass, the last batch
    may be smaller (validation).
    """

    def __init__(self, source: TextSource, renderer, batch_size: int, *, seed: int = 0, rank: int = 0,
                 world_size: int = 1, start_batch: int = 0, repeat: bool = True, min_patches: int = 0,
                 masker: Callable[[int, int], np.ndarray] | None = None, mask_ratio: float = 0.25,
                 max_span_length: int = 6,
                 cumulative_span_weights: tuple[float, ...] = PIXEL_BASE_CUMULATIVE_SPAN_WEIGHTS):
        if batch_size < 1 or world_size < 1 or not 0 <= rank < world_size or start_batch < 0:
            raise ValueError(f"bad sharding: batch_size={batch_size}, rank={rank}, world_size={world_size}, "
                             f"start_batch={start_batch}")
        self.source, self.renderer = source, renderer
        self.batch_size, self.seed = batch_size, seed
        self.rank, self.world_size, self.start_batch = rank, world_size, start_batch
        self.repeat, self.min_patches = repeat, min_patches
        self.num_patches = renderer.max_seq_length
        self.masker = masker or SpanMasker(self.num_patches, mask_ratio, max_span_length, cumulative_span_weights)

    def packed_examples(self) -> Iterator[str]:
        """The endless (or one-pass) stream of packed example texts; empty corpus -> ValueError."""
        ppp = self.renderer.pixels_per_patch
        width_fn = renderer_width_fn(self.renderer)
        max_width = ppp * self.num_patches - PACKING_SLACK_PIXELS
        epoch = 0
        while True:
            count = 0
            lines = iter(self.source)
            for text in pack_lines(lines, width_fn, max_width, self.min_patches * ppp, self.source.report):
                count += 1
                yield text
            if count == 0:
                raise ValueError(f"empty corpus: no example of >= {self.min_patches} patches in "
                                 f"{self.source.describe()} ({self.source.report.summary()})")
            if epoch == 0:
                self._report_first_epoch()
            epoch += 1
            if not self.repeat:
                return

    def _report_first_epoch(self) -> None:
        """After one pass over the text, say what was skipped or split (once per job: rank 0, first worker)."""
        report = self.source.report
        info = get_worker_info()
        if self.rank == 0 and (info is None or info.id == 0) and (report.skipped_lines or report.empty_files):
            print(f"pixel: input of {self.source.describe()}: {report.summary()}", file=sys.stderr, flush=True)

    def render_example(self, index: int, text: str) -> dict[str, Any]:
        encoding = self.renderer(text)
        ntp = min(encoding.num_text_patches, self.num_patches - 1)
        return {"pixel_values": encoding.pixel_values, "num_text_patches": ntp,
                "patch_mask": self.masker(ntp, example_seed(self.seed, index)), "example_index": index}

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        info = get_worker_info()
        num_workers, worker_id = (info.num_workers, info.id) if info is not None else (1, 0)
        global_batch = self.batch_size * self.world_size
        first = self.start_batch * global_batch
        pending: list[dict[str, Any]] = []
        for index, text in enumerate(self.packed_examples()):
            if index < first:
                continue
            batch_number, position = divmod(index, global_batch)
            if position // self.batch_size != self.rank or (batch_number - self.start_batch) % num_workers != worker_id:
                continue
            pending.append(self.render_example(index, text))
            if len(pending) == self.batch_size:
                yield collate(pending)
                pending = []
        if pending:
            yield collate(pending)
