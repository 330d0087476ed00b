"""The PyGame renderer against the original's saved outputs (tests/data/golden/render-pygame)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pixel.render.base import DEFAULT_FONT_FILE
from pixel.render.folder import file_sha256
from pixel.render.pygame import PyGameTextRenderer

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden" / "render-pygame"
CASES = json.loads((GOLDEN / "cases.json").read_text(encoding="utf-8"))


def case_input(case: dict) -> str | tuple[str, str] | list[str]:
    if case["mode"] == "pair":
        return tuple(case["input"])
    return case["input"]


@pytest.fixture(scope="module")
def renderer() -> PyGameTextRenderer:
    assert file_sha256(DEFAULT_FONT_FILE) == CASES["font_file_sha256"], "shipped font differs from the golden font"
    return PyGameTextRenderer(DEFAULT_FONT_FILE, **{k: v for k, v in CASES["renderer"].items() if k != "font_file"})


@pytest.mark.parametrize("case", CASES["cases"], ids=[case["id"] for case in CASES["cases"]])
def test_golden_case_is_pixel_identical(renderer: PyGameTextRenderer, case: dict) -> None:
    expected = json.loads((GOLDEN / f"{case['id']}.json").read_text(encoding="utf-8"))["encoding"]
    golden_image = np.asarray(Image.open(GOLDEN / f"{case['id']}.png"))

    encoding = renderer(case_input(case))

    assert encoding.pixel_values.dtype == np.uint8
    assert encoding.pixel_values.shape == (16, 8464)
    assert np.array_equal(encoding.pixel_values, golden_image)
    assert encoding.num_text_patches == expected["num_text_patches"]
    assert encoding.sep_patches == expected["sep_patches"]
    assert encoding.word_starts == expected["word_starts"]
    assert int(encoding.attention_mask.sum()) == expected["attention_mask_num_ones"]
    assert encoding.offset_mapping is None and encoding.overflowing_patches is None
    assert encoding.unrenderable_chars == []


def test_pair_sequence_ids_follow_the_separators(renderer: PyGameTextRenderer) -> None:
    encoding = renderer(("What is the capital of France?", "Paris."))
    sep, end = encoding.sep_patches
    ids = encoding.sequence_ids
    assert ids is not None and len(ids) == 529
    assert ids[:sep] == [0] * sep
    assert ids[sep] is None
    assert ids[sep + 1 : end] == [1] * (end - sep - 1)
    assert set(ids[end:]) == {None}


def test_missing_characters_are_reported_in_order(renderer: PyGameTextRenderer) -> None:
    # Noto Sans has no CJK, Hebrew or emoji glyphs and no tab glyph; pygame draws boxes for them.
    encoding = renderer("a 中 b \u05d0 c 😀\t中")
    assert encoding.unrenderable_chars == ["中", "\u05d0", "😀", "\t"]
    assert renderer(["ok", "中"]).unrenderable_chars == ["中"]


def test_missing_character_is_drawn_as_a_box(renderer: PyGameTextRenderer) -> None:
    assert (renderer("中").pixel_values[:, :16] < 255).any()


def test_line_breaks_are_rendered_as_spaces(renderer: PyGameTextRenderer) -> None:
    assert np.array_equal(renderer("a\nb\rc").pixel_values, renderer("a b c").pixel_values)


def test_rgb_gives_three_equal_channels(renderer: PyGameTextRenderer) -> None:
    rgb = PyGameTextRenderer(DEFAULT_FONT_FILE, rgb=True)
    encoding = rgb("Hello world!")
    assert encoding.pixel_values.shape == (16, 8464, 3)
    for channel in range(3):
        assert np.array_equal(encoding.pixel_values[:, :, channel], renderer("Hello world!").pixel_values)


def test_shorter_strip_clips_and_puts_the_end_patch_last() -> None:
    short = PyGameTextRenderer(DEFAULT_FONT_FILE, max_seq_length=8)
    encoding = short("a sentence that is much longer than eight patches of sixteen pixels")
    assert encoding.pixel_values.shape == (16, 128)
    assert encoding.sep_patches == [7] and encoding.num_text_patches == 7
    assert (encoding.pixel_values[:, 112:] == 0).all()


def test_word_starts_are_patch_aligned_and_end_at_num_text_patches(renderer: PyGameTextRenderer) -> None:
    words = ["one", "two", "three", "", "four"]
    encoding = renderer(words)
    assert encoding.word_starts[0] == 0
    assert encoding.word_starts == sorted(encoding.word_starts)
    assert len(encoding.word_starts) == len(words) + 1
    assert encoding.word_starts[-1] == encoding.num_text_patches == encoding.sep_patches[0]


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda r: r(("a", "b"), return_offset_mapping=True), ValueError),
        (lambda r: r(("a", "b"), text_a_max_length=3), ValueError),
        (lambda r: r("abc", rtl=True), ValueError),
        (lambda r: r([]), ValueError),
        (lambda r: r("a\ud800b"), ValueError),
        (lambda r: r(42), TypeError),
        (lambda r: r(["a", 3]), TypeError),
    ],
    ids=["offsets", "truncation", "rtl", "empty-words", "surrogate", "int", "int-word"],
)
def test_bad_input_raises_a_clear_error(renderer: PyGameTextRenderer, call, error) -> None:
    with pytest.raises(error):
        call(renderer)


def test_unsupported_settings_raise(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="missing.ttf"):
        PyGameTextRenderer(tmp_path / "missing.ttf")
    with pytest.raises(ValueError, match="fallback"):
        PyGameTextRenderer(DEFAULT_FONT_FILE, fallback_fonts_dir=tmp_path)
    with pytest.raises(ValueError, match="black on white"):
        PyGameTextRenderer(DEFAULT_FONT_FILE, font_color="red")
    not_a_font = tmp_path / "font.ttf"
    not_a_font.write_bytes(b"not a font")
    with pytest.raises(ValueError, match="font.ttf"):
        PyGameTextRenderer(not_a_font)


def test_pickled_renderer_renders_the_same(renderer: PyGameTextRenderer) -> None:
    renderer(["warm", "the", "cache"])
    copy = pickle.loads(pickle.dumps(renderer))
    assert copy._font is None
    for text in ["Hello world!", ("a", "b"), ["warm", "the", "cache"]]:
        assert np.array_equal(copy(text).pixel_values, renderer(text).pixel_values)


def test_save_and_load_round_trip(renderer: PyGameTextRenderer, tmp_path: Path) -> None:
    from pixel.render.base import TextRenderer

    renderer.save_pretrained(tmp_path)
    loaded = TextRenderer.from_pretrained(tmp_path)
    assert isinstance(loaded, PyGameTextRenderer)
    assert np.array_equal(loaded("Hello world!").pixel_values, renderer("Hello world!").pixel_values)


def test_changing_the_font_size_after_construction_takes_effect() -> None:
    renderer = PyGameTextRenderer(DEFAULT_FONT_FILE)
    small = renderer("Hello world!").num_text_patches
    renderer.font_size = 16
    assert renderer("Hello world!").num_text_patches > small
    assert np.array_equal(
        renderer("Hello world!").pixel_values, PyGameTextRenderer(DEFAULT_FONT_FILE, font_size=16)("Hello world!").pixel_values
    )
