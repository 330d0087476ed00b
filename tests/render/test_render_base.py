"""Renderer-independent parts: geometry helpers, input checks, backend choice, import lightness."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from pixel.render.base import (
    CONFIG_NAME,
    DEFAULT_FONT_FILE,
    TextRenderer,
    backend_of,
    check_text,
    check_words,
    load_renderer,
    renderer_class,
)


def test_patch_geometry():
    r = TextRenderer(max_seq_length=10)
    assert r.max_pixels_len == 160
    assert [r.next_patch(x) for x in (0, 1, 16, 17, 150, 500)] == [0, 16, 16, 32, 144, 144]
    assert [r.previous_patch(x) for x in (0, 15, 16, 31.5)] == [0, 0, 16, 16]
    assert r.font_pixel_size == pytest.approx(120 / 72 * 8)
    assert r.empty_image().shape == (16, 160)


def test_check_text_replaces_every_line_break_one_for_one():
    assert check_text("a\r\nb\u2029c\x0bd") == "a  b c d"
    assert check_words(["x\ny", "z"]) == ["x y", "z"]
    with pytest.raises(ValueError, match="word 1 contains a NUL"):
        check_words(["ok", "a\x00"])


def test_base_renderer_does_not_draw():
    with pytest.raises(NotImplementedError):
        TextRenderer()("text")


def test_backend_choice():
    assert backend_of("PyGameTextRenderer") == "pygame"
    assert backend_of("PangoCairoTextRenderer") == "pangocairo"
    assert backend_of("TextRenderer") == backend_of(None) == "pangocairo"
    assert renderer_class("pangocairo").__name__ == "PangoCairoTextRenderer"
    with pytest.raises(ValueError, match="unknown renderer backend"):
        renderer_class("tk")


def test_load_renderer_can_force_a_backend(tmp_path):
    TextRenderer(max_seq_length=64).save_pretrained(tmp_path)
    config = json.loads((tmp_path / CONFIG_NAME).read_text())
    assert config["text_renderer_type"] == "TextRenderer"
    assert type(load_renderer(tmp_path)).__name__ == "PangoCairoTextRenderer"
    assert load_renderer(tmp_path, backend="pangocairo", max_seq_length=32).max_seq_length == 32
    with pytest.raises(ValueError, match="no setting colour"):
        load_renderer(tmp_path, colour="red")


def test_missing_folder_and_bad_config_are_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="no text_renderer_config.json"):
        load_renderer(tmp_path)
    (tmp_path / CONFIG_NAME).write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_renderer(tmp_path)
    (tmp_path / CONFIG_NAME).write_text(json.dumps({"font_file": "Gone.ttf"}))
    with pytest.raises(FileNotFoundError, match="Gone.ttf"):
        load_renderer(tmp_path)
    with pytest.raises(FileNotFoundError, match="renderer folder not found"):
        load_renderer(tmp_path / "nope" / "deeper")


def test_saving_into_the_folder_it_was_loaded_from(tmp_path):
    shutil.copy(DEFAULT_FONT_FILE, tmp_path)
    r = TextRenderer(tmp_path / DEFAULT_FONT_FILE.name)
    r.save_pretrained(tmp_path)
    assert (tmp_path / DEFAULT_FONT_FILE.name).read_bytes() == DEFAULT_FONT_FILE.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([CONFIG_NAME, DEFAULT_FONT_FILE.name])


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
