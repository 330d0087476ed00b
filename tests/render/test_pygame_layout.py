"""The cached-glyph layout against pygame's own pipeline (font.render + blit), on many strings.

The oracle repeats the original renderer's steps with pygame itself: a white 32-bit Surface, `font.render` of
the whole string, the rect placed as the original does, `blit`, the black patch with `pygame.draw.rect`, and
the red channel of `surfarray.pixels3d` (R = G = B).
"""

from __future__ import annotations

import functools
import math
import os
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pixel.render.base import DEFAULT_FONT_FILE, check_text
from pixel.render.pygame import PyGameTextRenderer
from pixel.render.pygame_layout import PyGameLayout

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402
import pygame.freetype  # noqa: E402

PPP, LENGTH = 16, 64
WIDTH = PPP * LENGTH


def next_patch(x: float) -> int:
    return min(math.ceil(x / PPP) * PPP, WIDTH - PPP)


@pytest.fixture(scope="module")
def font():
    pygame.freetype.init()
    pygame.freetype.set_default_resolution(120)
    return pygame.freetype.Font(str(DEFAULT_FONT_FILE), 8)


def surface_to_array(surface) -> np.ndarray:
    return pygame.surfarray.pixels3d(surface)[:, :, 0].T.copy()


def original_text(font, text: str) -> tuple[np.ndarray, int]:
    surface = pygame.Surface((WIDTH, PPP))
    surface.fill((255, 255, 255))
    text_surface, rect = font.render(text, (0, 0, 0, 255))
    rect.midleft = (2, PPP / 2)
    surface.blit(text_surface, rect)
    end = next_patch(2 + rect.width + 2)
    pygame.draw.rect(surface, (0, 0, 0, 255), pygame.Rect(end, 0, PPP, PPP))
    return surface_to_array(surface), end // PPP


def original_words(font, words: list[str]) -> tuple[np.ndarray, list[int]]:
    surface = pygame.Surface((WIDTH, PPP))
    surface.fill((255, 255, 255))
    offset, starts = 2, [0]
    for index, word in enumerate(words):
        is_last = index == len(words) - 1
        text_surface, rect = font.render(word if is_last else word + " ", (0, 0, 0, 255))
        rect.left = offset
        rect.top = 3 + (PPP / 2 - rect.top)
        surface.blit(text_surface, rect)
        offset = next_patch(offset + rect.width + (2 if is_last else 0))
        starts.append(math.ceil(offset / PPP))
        if offset == WIDTH - PPP:
            break
    pygame.draw.rect(surface, (0, 0, 0, 255), pygame.Rect(offset, 0, PPP, PPP))
    return surface_to_array(surface), starts


def random_strings(font, count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    covered = [chr(c) for c in range(0x20, 0x2100) if font.get_metrics(chr(c))[0] is not None]
    marks = [chr(c) for c in range(0x300, 0x370)]
    odd = ["中", "\u05d0", "😀", "\t", "\u00a0", "\u200b", "ﬁ"]
    pool = covered + marks * 3 + odd * 5 + [" "] * 200
    return ["".join(rng.choice(pool) for _ in range(rng.randint(1, 60))) for _ in range(count)]


SPECIAL = [
    " ",
    "   ",
    "  lead and trail  ",
    "é ä ñ ộ Z̴̧a̶l̸g̵o̷",
    "\u0301a",
    "a\u0301\u0302\u0303\u0304 b",
    "f) j, VAVA ﬁ fi",
    "The quick brown fox jumps over the lazy dog. " * 30,  # overflows the 64-patch strip
]


def test_text_mode_matches_pygame_on_many_strings(font) -> None:
    renderer = PyGameTextRenderer(DEFAULT_FONT_FILE, max_seq_length=LENGTH)
    for text in SPECIAL + random_strings(font, 250, seed=1):
        expected, num_text_patches = original_text(font, text)
        encoding = renderer.render_text(text)
        assert np.array_equal(encoding.pixel_values, expected), repr(text)
        assert encoding.num_text_patches == num_text_patches, repr(text)


def test_word_mode_matches_pygame_on_many_word_lists(font) -> None:
    renderer = PyGameTextRenderer(DEFAULT_FONT_FILE, max_seq_length=LENGTH)
    strings = random_strings(font, 60, seed=2)
    for text in strings + SPECIAL:
        words = text.split(" ")
        expected, starts = original_words(font, words)
        encoding = renderer.render_words(words)
        assert np.array_equal(encoding.pixel_values, expected), repr(words)
        assert encoding.word_starts == starts, repr(words)


SPICE = list("\t\x0b\x1b\x7f\u200b\u200d\u200e\u202e\ufeff\u0301\u0338\u064b\u00a0")
SPICE += ["שלום", "مرحبا", "👍🏽", "漢字", "ก่", "Z̴̧a̶l̸g̵o̷", "\U0010ffff", "\ufffd", "  "]
characters = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
fuzz_texts = st.lists(st.one_of(st.text(characters, max_size=10), st.sampled_from(SPICE)), max_size=10).map("".join)


@functools.cache
def renderer_of_length(length: int) -> PyGameTextRenderer:
    return PyGameTextRenderer(DEFAULT_FONT_FILE, max_seq_length=length)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=fuzz_texts)
def test_random_unicode_matches_pygame(font, text: str) -> None:
    renderer = renderer_of_length(LENGTH)
    text = check_text(text)
    expected, num_text_patches = original_text(font, text)
    encoding = renderer.render_text(text)
    assert np.array_equal(encoding.pixel_values, expected)
    assert encoding.num_text_patches == num_text_patches
    assert 1 <= encoding.num_text_patches <= LENGTH - 1
    assert set(encoding.unrenderable_chars) <= set(text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mode=st.sampled_from(["text", "pair", "words"]), a=fuzz_texts, b=fuzz_texts, length=st.sampled_from([2, 5, 529]))
def test_random_unicode_renders_in_every_mode(mode: str, a: str, b: str, length: int) -> None:
    renderer = renderer_of_length(length)
    item = {"text": a, "pair": (a, b), "words": (a + " " + b).split(" ")}[mode]
    encoding = renderer(item)
    assert encoding.pixel_values.shape == (16, 16 * length) and encoding.pixel_values.dtype == np.uint8
    assert 1 <= encoding.num_text_patches <= length - 1
    for index in encoding.sep_patches:
        assert (encoding.pixel_values[:, 16 * index : 16 * index + 16] == 0).all()
    if mode == "words":
        starts = encoding.word_starts
        assert starts[0] == 0 and starts[-1] == encoding.num_text_patches and starts == sorted(starts)


def test_fractional_advances_fall_back_to_pygame(font, monkeypatch) -> None:
    class HalfPixelA:
        """The real font, except that it reports a fractional advance for "a" (as an unhinted font would)."""

        def __getattr__(self, name: str):
            return getattr(font, name)

        def get_metrics(self, text: str):
            metrics = font.get_metrics(text)
            return [(*m[:4], m[4] + 0.5, m[5]) if text == "a" else m for m in metrics]

    engine = PyGameLayout(HalfPixelA())
    calls: list[str] = []
    by_pygame = engine.layout_by_pygame
    monkeypatch.setattr(engine, "layout_by_pygame", lambda text: calls.append(text) or by_pygame(text))

    engine.layout("the cat sat")
    engine.layout("the dog")
    assert calls == ["the cat sat"]
    canvas = np.full((PPP, WIDTH), 255, np.uint8)
    layout = engine.layout("a cat")
    engine.draw(canvas, layout, 2, PPP // 2 - layout.height // 2)
    expected, _ = original_text(font, "a cat")
    end = next_patch(2 + layout.width + 2)
    canvas[:, end : end + PPP] = 0
    assert np.array_equal(canvas, expected)
