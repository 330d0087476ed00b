"""The cached-glyph layout against pygame's own pipeline (font.render + blit), on many strings.

The oracle repeats the original renderer's steps with pygame itself: a white 32-bit Surface, `font.render` of
the whole string, the rect placed as the original does, `blit`, the black patch with `pygame.draw.rect`, and
the red channel of `surfarray.pixels3d` (R = G = B).
"""

from __future__ import annotations

import math
import os
import random

import numpy as np
import pytest

from pixel.render.base import DEFAULT_FONT_FILE
from pixel.render.pygame import PyGameTextRenderer

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
