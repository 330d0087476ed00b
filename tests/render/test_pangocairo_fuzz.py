"""Random Unicode (controls, RTL, emoji, combining marks) through every mode: no crash, right shapes."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pixel.render.pangocairo import PangoCairoTextRenderer

SPICE = list("\t\n\r\x0b\x0c\x1b\x7f\u200b\u200d\u200e\u200f\u202e\u2066\ufeff\u0301\u0338\u064b")
SPICE += ["שלום", "مرحبا", "👍🏽", "👨‍👩‍👧", "🇩🇪", "漢字", "ก่", "Z̴̧a̶l̸g̵o̷", "\U0001e900", "\U0010ffff", "\ufffd"]
characters = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
texts = st.lists(st.one_of(st.text(characters, max_size=12), st.sampled_from(SPICE)), max_size=12).map(
    "".join
)

RENDERERS = [PangoCairoTextRenderer(), PangoCairoTextRenderer(max_seq_length=12)]


def check(encoding, renderer):
    # The surface is reused: after every render it must be blank again (only inked columns are cleared).
    assert renderer._native.pixels.max() == 0
    length = renderer.max_seq_length
    assert encoding.pixel_values.shape == (16, 16 * length)
    assert encoding.pixel_values.dtype == np.uint8
    assert 1 <= encoding.num_text_patches <= length - 1
    for index in encoding.sep_patches:
        assert 0 <= index < length
        assert (encoding.pixel_values[:, 16 * index : 16 * index + 16] == 0).all()
    assert all(isinstance(c, str) and len(c) == 1 for c in encoding.unrenderable_chars)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    mode=st.sampled_from(["text", "pair", "words"]),
    a=texts,
    b=texts,
    small=st.booleans(),
    offsets=st.booleans(),
    rtl=st.booleans(),
)
def test_random_unicode_renders(mode, a, b, small, offsets, rtl):
    renderer = RENDERERS[small]
    if mode == "text":
        check(renderer(a, rtl=rtl), renderer)
    elif mode == "words":
        words = (a + " " + b).split(" ")
        encoding = renderer(words)
        check(encoding, renderer)
        starts = encoding.word_starts
        assert starts[0] == 0 and starts[-1] == encoding.num_text_patches and starts == sorted(starts)
    else:
        try:
            encoding = renderer(
                (a, b), return_offset_mapping=offsets, return_overflowing_patches=offsets, stride=1, rtl=rtl
            )
        except ValueError as err:  # text_a fills the strip: no room for overflow windows, said clearly
            assert "leaves no room" in str(err) and small
            return
        check(encoding, renderer)
        assert len(encoding.sequence_ids) == renderer.max_seq_length
        if offsets:
            assert len(encoding.offset_mapping) == renderer.max_seq_length
            # Spans index the text; like the original's, a span may end one past the text (its line end).
            longest = max(len(a), len(b)) + 1
            for span in encoding.offset_mapping:
                assert span == (-1, -1) or 0 <= min(span) <= max(span) <= longest
            for window in encoding.overflowing_patches:
                check(window, renderer)
