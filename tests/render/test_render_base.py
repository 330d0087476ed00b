"""Renderer-independent parts: geometry helpers, input checks, import lightness."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pixel.render.base import TextRenderer, check_text, check_words


def test_patch_geometry():
    r = TextRenderer(max_seq_length=10)
    assert r.max_pixels_len == 160
    assert [r.next_patch(x) for x in (0, 1, 16, 17, 150, 500)] == [0, 16, 16, 32, 144, 144]
    assert [r.previous_patch(x) for x in (0, 15, 16, 31.5)] == [0, 0, 16, 16]
    assert r.font_pixel_size == pytest.approx(120 / 72 * 8)
    assert r.empty_image().shape == (16, 160)


def test_rounding_to_a_patch():
    r = TextRenderer(max_seq_length=10)
    assert [r.patches_to(x) for x in (0, 1, 16, 17, 31.5, 500)] == [0, 1, 1, 2, 2, 32]
    assert [r.patch_at(x) for x in (0, 15, 16, 31.5)] == [0, 0, 1, 1]


def test_check_text_replaces_every_line_break_one_for_one():
    assert check_text("a\r\nb\u2029c\x0bd") == "a  b c d"
    assert check_words(["x\ny", "z"]) == ["x y", "z"]
    with pytest.raises(ValueError, match="word 1 contains a NUL"):
        check_words(["ok", "a\x00"])


def test_base_renderer_does_not_draw():
    with pytest.raises(NotImplementedError):
        TextRenderer()("text")


def test_importing_the_renderers_loads_no_native_library():
    code = (
        "import sys, pixel.render.base, pixel.render.pangocairo, pixel.render.fonts\n"
        "from pixel.render.pangocairo import PangoCairoTextRenderer\n"
        "r = PangoCairoTextRenderer()\n"
        "loaded = [m for m in ('pangocffi', 'pangocairocffi', 'cairocffi', 'torch') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
        "r('x')\n"
        "assert 'pangocffi' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
