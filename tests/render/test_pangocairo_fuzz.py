"""Random Unicode (controls, RTL, emoji, combining marks) through every rendering and input kind: no crash,
right shapes, metadata that agrees with the ink; long inputs (words of up to 10,000 characters, texts and word
lists of up to 1 MB) through both renderers too, cheaply."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pixel.render.pangocairo import PangoCairoTextRenderer
from pixel.render.pygame import PyGameTextRenderer
from pixel.render.structured import RENDERINGS

SPICE = list("\t\n\r\x0b\x0c\x1b\x7f\u200b\u200d\u200e\u200f\u202e\u2066\ufeff\u0301\u0338\u064b")
SPICE += ["שלום", "مرحبا", "👍🏽", "👨‍👩‍👧", "🇩🇪", "漢字", "ก่", "Z̴̧a̶l̸g̵o̷", "\U0001e900", "\U0010ffff", "\ufffd"]
characters = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
texts = st.lists(st.one_of(st.text(characters, max_size=12), st.sampled_from(SPICE)), max_size=12).map(
    "".join
)

RENDERERS = {
    (rendering, small): PangoCairoTextRenderer(rendering=rendering, max_seq_length=12 if small else 529)
    for rendering in RENDERINGS
    for small in (False, True)
}


def check(encoding, renderer, words=()):
    # The surface is reused: after every render it must be blank again (only inked columns are cleared).
    assert renderer._native.pixels.max() == 0
    length = renderer.max_seq_length
    assert encoding.pixel_values.shape == (16, 16 * length)
    assert encoding.pixel_values.dtype == np.uint8
    assert 0 <= encoding.num_text_patches <= length - 1
    # Structured renderings draw only words, and PIXEL-M4's truncation may keep only the first one: a text
    # patch is certain when every word has a width (any letter or digit has one).
    if renderer.rendering == "continuous" or (words and all(any(c.isalnum() for c in w if c.isascii()) for w in words)):
        assert encoding.num_text_patches >= 1
    for index in encoding.sep_patches:
        assert 0 <= index < length
        assert (encoding.pixel_values[:, 16 * index : 16 * index + 16] == 0).all()
    assert all(isinstance(c, str) and len(c) == 1 for c in encoding.unrenderable_chars)
    check_ink(encoding)


def check_ink(encoding):
    """Ink only on text patches: none after the end patch, and num_text_patches covers every inked patch."""
    pixels = encoding.pixel_values
    length = encoding.num_patches
    ink = (pixels < 255).reshape(16, length, 16, -1).any(axis=(0, 2, 3))
    black = set(encoding.sep_patches)
    inked = [patch for patch in np.flatnonzero(ink) if patch not in black]
    assert not inked or max(inked) < encoding.num_text_patches, (inked[-5:], encoding.num_text_patches)
    assert not ink[encoding.sep_patches[-1] + 1 :].any()


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rendering=st.sampled_from(list(RENDERINGS)),
    mode=st.sampled_from(["text", "pair", "words"]),
    a=texts,
    b=texts,
    small=st.booleans(),
    offsets=st.booleans(),
    rtl=st.booleans(),
)
def test_random_unicode_renders(rendering, mode, a, b, small, offsets, rtl):
    renderer = RENDERERS[rendering, small]
    if mode == "text":
        encoding = renderer(a, rtl=rtl)
        check(encoding, renderer, a.split())
        if rendering != "continuous":
            check_word_starts(encoding, renderer)
    elif mode == "words":
        words = (a + " " + b).split(" ")
        encoding = renderer(words)
        check(encoding, renderer, words)
        check_word_starts(encoding, renderer)
    else:
        try:
            encoding = renderer(
                (a, b), return_offset_mapping=offsets, return_overflowing_patches=offsets, stride=1, rtl=rtl
            )
        except ValueError as err:  # text_a fills the strip: no room for overflow windows, said clearly
            assert "no room" in str(err) and small
            return
        check(encoding, renderer)
        assert encoding.num_text_patches >= 1  # text_b starts after the separator
        assert len(encoding.sequence_ids) == renderer.max_seq_length
        if offsets:
            assert len(encoding.offset_mapping) == renderer.max_seq_length
            # Spans index the text; like the original's, a span may end one past the text (its line end).
            longest = max(len(a), len(b)) + 1
            for span in encoding.offset_mapping:
                assert span == (-1, -1) or 0 <= min(span) <= max(span) <= longest
            for window in encoding.overflowing_patches:
                check(window, renderer)
                assert len(window.offset_mapping) == renderer.max_seq_length


def check_word_starts(encoding, renderer):
    starts = encoding.word_starts
    assert starts[0] == 0 and starts == sorted(starts)
    # PIXEL-M4's bigrams report where the drawn words end even past the strip (its end patch then covers the
    # last text patch); the others stop at the end patch.
    assert starts[-1] == encoding.num_text_patches or (
        renderer.rendering == "bigrams" and starts[-1] > encoding.num_text_patches == renderer.max_seq_length - 1
    )


# ------------------------------------------------------------------------------------------- long inputs
pieces = st.one_of(st.text(characters, min_size=1, max_size=16), st.sampled_from(SPICE))


def repeated(piece: str, size: int) -> str:
    """``piece`` repeated to about ``size`` characters (hypothesis cannot draw megabytes cheaply)."""
    return piece * max(1, size // len(piece))


long_texts = st.builds(lambda head, piece, size: head + repeated(piece, size), texts, pieces,
                       st.integers(1, 1_000_000))
long_words = st.builds(repeated, st.text(characters, min_size=1, max_size=8), st.integers(1, 10_000))
word_lists = st.builds(
    lambda words, times: words * max(1, min(times, 1_000_000 // (len(words) + sum(map(len, words))))),
    st.lists(st.one_of(long_words, st.text(characters, max_size=12)), min_size=1, max_size=8),
    st.sampled_from([1, 1, 10, 1000, 1_000_000]),  # up to a megabyte, or a million words
)
LONG_RENDERERS = {**RENDERERS, **{("pygame", small): PyGameTextRenderer(max_seq_length=12 if small else 529)
                                  for small in (False, True)}}


inputs = st.one_of(
    st.tuples(st.just("text"), long_texts),
    st.tuples(st.just("pair"), st.tuples(long_texts, st.one_of(texts, long_texts))),
    st.tuples(st.just("pair"), st.tuples(texts, long_texts)),
    st.tuples(st.just("words"), word_lists),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    renderer=st.sampled_from(list(LONG_RENDERERS)),
    given_input=inputs,
    windows=st.sampled_from([False, False, False, True]),  # windows over a long text_b are slow (as the original)
    rtl=st.booleans(),
)
def test_long_inputs_are_cut_to_the_strip(renderer, given_input, windows, rtl):
    renderer = LONG_RENDERERS[renderer]
    mode, item = given_input
    pangocairo = isinstance(renderer, PangoCairoTextRenderer)
    options = {"rtl": rtl} if pangocairo and not (mode == "words" and renderer.rendering in ("continuous", "words")) else {}
    if mode == "pair" and pangocairo and windows:
        options.update(return_offset_mapping=True, return_overflowing_patches=True, stride=1)
    try:
        encoding = renderer(item, **options)
    except ValueError as err:  # too long for overflow windows, or text_a leaves no room: said clearly
        assert mode == "pair" and windows and ("split the text" in str(err) or "no room" in str(err)), err
        return
    windows = [encoding, *(encoding.overflowing_patches or [])]
    for window in windows:
        check(window, renderer, item if mode == "words" else ()) if pangocairo else check_ink(window)
    if mode == "words" and pangocairo:
        check_word_starts(encoding, renderer)
    if not pangocairo or renderer.rendering == "continuous":
        assert 1 <= encoding.num_text_patches <= renderer.max_seq_length - 1
