"""Renderers made (and used) in the parent keep working in DataLoader workers, forked or spawned."""

from __future__ import annotations

import multiprocessing

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from pixel.render.pangocairo import PangoCairoTextRenderer
from pixel.render.pygame import PyGameTextRenderer

TEXTS = [
    "Hello world!",
    ("What is PIXEL?", "A language model on pixels."),
    ["words", "one", "patch", "apart"],
    "Съешь же ещё этих мягких французских булок",
    "汉字 and עברית",
    ["Hello", "world", "!"],
]


class RenderBoth(Dataset):
    """Item i: both renderers' images of TEXTS[i]."""

    def __init__(self, renderers: dict[str, object]) -> None:
        self.renderers = renderers

    def __len__(self) -> int:
        return len(TEXTS)

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        return {name: renderer(TEXTS[index]).pixel_values for name, renderer in self.renderers.items()}


@pytest.mark.parametrize("context", ["fork", pytest.param("spawn", marks=pytest.mark.slow)])
def test_workers_render_like_the_parent(context: str) -> None:
    if context not in multiprocessing.get_all_start_methods():
        pytest.skip(f"start method {context!r} is not available on this platform")
    renderers = {
        "pangocairo": PangoCairoTextRenderer(max_seq_length=64),
        **{
            name: PangoCairoTextRenderer(max_seq_length=64, rendering=name)
            for name in ("bigrams", "words", "mono")
        },
        "pygame": PyGameTextRenderer(max_seq_length=64),
    }
    # Use the native handles in the parent first: forked children inherit them.
    expected = [{name: r(text).pixel_values for name, r in renderers.items()} for text in TEXTS]

    loader = DataLoader(
        RenderBoth(renderers),
        batch_size=None,
        num_workers=2,
        multiprocessing_context=context,
        timeout=120,  # a deadlocked worker fails the test instead of hanging it
    )
    results = list(loader)

    assert len(results) == len(TEXTS)
    for got, want in zip(results, expected, strict=True):
        for name in renderers:
            assert isinstance(got[name], torch.Tensor)
            assert np.array_equal(got[name].numpy(), want[name]), name
