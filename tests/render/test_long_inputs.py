"""Inputs longer than the strip (issue 13, items 1 and 2): cut to what can show before layout, in every renderer
and rendering, with metadata that agrees with the ink."""

from __future__ import annotations

import random

import numpy as np
import pytest

from pixel.render.pangocairo import PangoCairoTextRenderer
from pixel.render.pygame import PyGameTextRenderer
from pixel.render.structured import RENDERINGS

LAST = 528  # the last patch of a 529-patch strip: where the end patch of a full strip sits


@pytest.fixture(scope="module", params=[*RENDERINGS, "pygame"])
def renderer(request):
    if request.param == "pygame":
        return PyGameTextRenderer()
    return PangoCairoTextRenderer(rendering=request.param)


def last_inked_patch(pixel_values: np.ndarray) -> int:
    columns = np.flatnonzero((pixel_values < 255).any(axis=0))
    return int(columns[-1]) // 16


def test_a_word_longer_than_the_strip_is_drawn_clipped(renderer):
    # Words of ~4,700+ characters made cairo raise CAIRO_STATUS_INVALID_SIZE in word-list mode (a URL or a
    # base64 blob in a POS, NER or parsing file).
    bigrams = getattr(renderer, "rendering", "") == "bigrams"
    for words in (["x" * 5000], ["the", "x" * 20_000, "cat"]):
        encoding = renderer(words)
        if bigrams and len(words) > 1:  # PIXEL-M4 drops the word that overflows the strip, and the one before
            assert encoding.num_text_patches == encoding.word_starts[-1] == 2
            continue
        assert encoding.num_text_patches == LAST and encoding.sep_patches == [LAST]
        assert last_inked_patch(encoding.pixel_values) == LAST
        # (PIXEL-M4's bigrams report where the drawn words end, past the strip)
        assert encoding.word_starts[-1] == LAST or bigrams


def test_a_text_too_long_for_pango_fills_the_strip(renderer):
    # "a" * 300,000 overflowed Pango's int32 width: num_text_patches 1 on a full strip, a pair's separators
    # at [1, 6], and a blank PNG from `pixel render`.
    text = "a" * 300_000
    encoding = renderer(text)
    assert encoding.num_text_patches == LAST and encoding.sep_patches == [LAST]
    pair = renderer((text, "b"))
    assert pair.sep_patches == [LAST, LAST] and pair.num_text_patches == LAST


def test_long_inputs_are_cut_before_layout(monkeypatch):
    renderer = PangoCairoTextRenderer()
    native = renderer._native
    laid_out: list[int] = []
    set_text = native.set_text
    monkeypatch.setattr(native, "set_text", lambda layout, text: laid_out.append(len(text)) or set_text(layout, text))
    megabyte = "word " * 200_000
    renderer(megabyte)
    renderer((megabyte, megabyte))
    renderer(megabyte.split(" "))
    renderer(["y" * 1_000_000])
    assert laid_out and max(laid_out) <= renderer.max_chars < 11_000


def test_a_right_to_left_text_longer_than_the_cut_shows_its_end_as_the_original():
    # Pango lays a right-to-left paragraph out from the right: a strip shows the paragraph's logical end, so the
    # cut keeps the end (the original, which laid everything out, showed the same pixels).
    renderer = PangoCairoTextRenderer()
    random.seed(0)
    text = " ".join(random.choice(["שלום", "עולם", "ספר", "בית", "מים"]) for _ in range(3000))
    assert len(text) > renderer.max_chars
    shown = renderer(text[-8000:]).pixel_values  # short enough to be laid out whole
    assert np.array_equal(renderer(text).pixel_values, shown)
    bigrams = PangoCairoTextRenderer(rendering="bigrams")  # right to left: the last word is drawn first
    assert np.array_equal(bigrams(text).pixel_values, bigrams(text[-8000:]).pixel_values)


def test_overflow_windows_refuse_a_text_too_long_to_lay_out():
    renderer = PangoCairoTextRenderer()
    with pytest.raises(ValueError, match=r"text_b has 1,000,000 characters; overflow windows .* split the text"):
        renderer(("question?", "a" * 1_000_000), return_offset_mapping=True, return_overflowing_patches=True)


def test_a_strip_wider_than_cairo_draws_is_refused():
    with pytest.raises(ValueError, match=r"cairo draws at most 32767 px: use max_seq_length <= 2047"):
        PangoCairoTextRenderer(max_seq_length=4096)
