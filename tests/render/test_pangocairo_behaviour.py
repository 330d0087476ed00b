"""PangoCairo renderer behaviour beyond the golden cases: fixes of the original's bugs, RTL, fonts, folders,
pickling, bad input."""

from __future__ import annotations

import json
import pickle
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from pixel.render.base import DEFAULT_FONT_FILE, TextRenderer
from pixel.render.folder import CONFIG_NAME, file_sha256, load_renderer
from pixel.render.pangocairo import PangoCairoTextRenderer

ADLAM_FONT = Path("/usr/share/fonts/truetype/noto/NotoSansAdlam-Regular.ttf")
ADLAM_TEXT = (
    "\U0001e900\U0001e901\U0001e902"  # only Noto Sans Adlam covers these, and it is not a default fallback
)


@pytest.fixture(scope="module")
def r() -> PangoCairoTextRenderer:
    return PangoCairoTextRenderer()


@pytest.fixture(scope="module")
def small() -> PangoCairoTextRenderer:
    return PangoCairoTextRenderer(max_seq_length=32)


# ------------------------------------------------------------------------------------------- fixed bugs
@pytest.mark.parametrize("separator", ["\r", "\n", "\r\n", "\u2028"])
def test_line_breaks_render_as_spaces(r, separator):
    spaces = " " * len(separator)
    assert np.array_equal(r(f"one{separator}two").pixel_values, r(f"one{spaces}two").pixel_values)
    pair = r(("a" + separator + "b", "c"), return_offset_mapping=True)
    assert pair.offset_mapping == r(("a" + spaces + "b", "c"), return_offset_mapping=True).offset_mapping


def test_truncated_text_a_moves_the_separator(r):
    question = "What is the name of the largest city in the country whose capital is Paris? " * 2
    full = r((question, "Paris."))
    cut = r((question, "Paris."), text_a_max_length=10)
    # The original kept the separator after the full question (patch 56 here) although it drew only 10 patches.
    assert full.sep_patches[0] > 30
    assert cut.sep_patches[0] <= 10
    assert cut.sequence_ids[: cut.sep_patches[0]] == [0] * cut.sep_patches[0]
    # Nothing of text_a is drawn after the separator: the patches between separator and text_b are blank.
    sep = cut.sep_patches[0]
    assert (cut.pixel_values[:, (sep + 1) * 16 : (sep + 1) * 16 + 2] == 255).all()
    # text_b follows right after the separator: same image as an untruncated pair with that short question.
    assert cut.num_text_patches < full.num_text_patches


def test_truncation_keeps_short_text_a_unchanged(r):
    pair = ("Short question?", "An answer.")
    assert np.array_equal(r(pair).pixel_values, r(pair, text_a_max_length=20).pixel_values)


def test_overflow_windows_list_their_own_separators(small):
    enc = small(("Who?", "word " * 60), return_offset_mapping=True, return_overflowing_patches=True, stride=2)
    assert enc.overflowing_patches
    for window in enc.overflowing_patches:
        assert len(window.sep_patches) == 2
        assert window.sep_patches[0] == enc.sep_patches[0]
        assert window.pixel_values[:, window.sep_patches[1] * 16 :][:, :16].max() == 0
        assert window.num_text_patches == window.sep_patches[1]
        assert len(window.offset_mapping) == 32


def test_unrenderable_characters_are_reported(r):
    enc = r("abc " + ADLAM_TEXT)
    assert enc.unrenderable_chars == list(ADLAM_TEXT)
    assert r("abc").unrenderable_chars == []
    words = r(["ok", ADLAM_TEXT[0], "fine"])
    assert words.unrenderable_chars == [ADLAM_TEXT[0]]


# ---------------------------------------------------------------------------------------------- geometry
def test_text_strip_geometry(r):
    enc = r("Hello world!")
    assert enc.pixel_values.shape == (16, 8464) and enc.pixel_values.dtype == np.uint8
    eos = enc.sep_patches[0]
    assert enc.num_text_patches == eos
    assert (enc.pixel_values[:, eos * 16 : eos * 16 + 16] == 0).all()
    assert (enc.pixel_values[:, (eos + 1) * 16 :] == 255).all()
    assert enc.pixel_values[:, : eos * 16].min() < 128  # there is ink before the end patch
    assert enc.attention_mask.sum() == eos + 1


def test_rgb_mode_has_three_identical_channels_for_black_text():
    enc = PangoCairoTextRenderer(rgb=True)("grey text")
    assert enc.pixel_values.shape == (16, 8464, 3)
    grey = PangoCairoTextRenderer()("grey text").pixel_values
    assert (enc.pixel_values[..., 0] == enc.pixel_values[..., 1]).all()
    assert np.abs(enc.pixel_values[..., 0].astype(int) - grey).max() <= 1


def test_word_list_starts_are_patch_aligned(r):
    enc = r(["The", "quick", "brown", "fox"])
    starts = enc.word_starts
    assert starts[0] == 0 and starts[-1] == enc.num_text_patches == enc.sep_patches[0]
    assert starts == sorted(starts) and len(starts) == 5
    for start in starts[1:-1]:  # each word after the first begins exactly at its patch, after blank columns
        column = enc.pixel_values[:, start * 16 - 1]
        assert (column == 255).all()


def test_cached_word_rendering_matches_direct_drawing():
    # Grey word lists paste cached word bitmaps; RGB word lists draw every word with Pango. Same ink.
    words = ["Zipf", "law:", "the", "the", "the", "fjord", "jiffy", "ffi", "Ω", "😀", "والعالم", "", "x"]
    grey = PangoCairoTextRenderer()(words)
    rgb = PangoCairoTextRenderer(rgb=True)(words)
    assert grey.word_starts == rgb.word_starts
    latin = slice(0, grey.word_starts[8] * 16)  # up to the emoji (colour differs by design)
    assert np.abs(rgb.pixel_values[:, latin, 0].astype(int) - grey.pixel_values[:, latin]).max() <= 1


def test_overlapping_ink_is_composited_like_cairo():
    # Word lists rarely overlap, but when two inks share pixels the pasted bitmaps must combine like cairo's
    # OVER. Draw two overlapping words with Pango on one surface and compose their cached bitmaps.
    from pixel.render.stamps import over_inverted as _over_inverted

    r = PangoCairoTextRenderer(max_seq_length=8)
    native = r._native
    placed = [("WAVE", 3), ("MOVE", 12)]  # drawn 9 px apart: the words overlap
    composed = np.full((16, 128), 255, dtype=np.uint8)
    inked = []
    for piece, x in placed:
        native.set_text(native.ltr, piece)
        _width, height = native.pixel_size(native.ltr)
        native.show(native.ltr, x, height)
        _w, shift, bitmap, _missing = r._cache_word(native, piece)
        lo, hi = x + shift, x + shift + bitmap.shape[1]
        composed[:, lo:hi] = _over_inverted(bitmap, composed[:, lo:hi])
        alone = np.zeros((16, 128), dtype=bool)
        alone[:, lo:hi] = bitmap < 255
        inked.append(alone)
    expected = native.take_image()
    assert (inked[0] & inked[1]).sum() > 3  # pixels inked by both words
    assert np.array_equal(composed, expected)


# ------------------------------------------------------------------------------------------------- RTL
def test_is_rtl_majority_vote(r):
    assert r.is_rtl("שלום עולם")
    assert r.is_rtl("مرحبا بالعالم 123!")
    assert not r.is_rtl("Hello world")
    assert not r.is_rtl("123 !?")
    assert r.is_rtl("a שלום ב")  # first and last letters are RTL: 2 of 3 votes
    assert not r.is_rtl("שלום abc d")


def test_rtl_pair_offsets_are_mirrored(r):
    enc = r(("מה שלומך?", "אני בסדר גמור."), return_offset_mapping=True)
    sep = enc.sep_patches[0]
    spans = [span for span in enc.offset_mapping[:sep] if span != (-1, -1)]
    # RTL spans count from the end of the string: starts decrease along the strip.
    starts = [start for start, _ in spans]
    assert starts == sorted(starts, reverse=True)
    assert spans[0][0] == len("מה שלומך?")


def test_mixed_direction_pair_takes_the_ltr_path(r):
    mixed = r(("Where is שלום?", "It means peace."), return_offset_mapping=True)
    spans = [s for s in mixed.offset_mapping[: mixed.sep_patches[0]] if s != (-1, -1)]
    assert spans[0][0] == 0 and spans == sorted(spans)
    forced = r(("Where is שלום?", "It means peace."), return_offset_mapping=True, rtl=True)
    assert forced.offset_mapping[0][0] > forced.offset_mapping[1][0]


def test_text_mode_bidi_is_automatic(r):
    # rtl is ignored in text mode, as in the original; Pango's bidi algorithm orders the runs.
    text = "Hello שלום world"
    assert np.array_equal(r(text).pixel_values, r(text, rtl=True).pixel_values)


# ------------------------------------------------------------------------------------------------- fonts
def test_hermetic_renderer_does_not_see_system_only_fonts():
    assert ADLAM_FONT.is_file(), "fonts-noto-core provides Noto Sans Adlam"
    hermetic = PangoCairoTextRenderer()(ADLAM_TEXT)
    system = PangoCairoTextRenderer(use_system_fonts=True)(ADLAM_TEXT)
    assert hermetic.unrenderable_chars == list(ADLAM_TEXT)
    assert system.unrenderable_chars == []
    assert not np.array_equal(hermetic.pixel_values, system.pixel_values)


def _application_fonts_of_the_process_config() -> int:
    from pixel.render import fonts

    _ffi, fontconfig, _pangoft2 = fonts.native()
    fontconfig.FcInit()
    font_set = fontconfig.FcConfigGetFonts(fontconfig.FcConfigGetCurrent(), 1)  # FcSetApplication
    return 0 if font_set == _ffi.NULL else font_set.nfont


def test_hermetic_renderer_leaves_the_process_fontconfig_alone(tmp_path):
    shutil.copy(ADLAM_FONT, tmp_path / "PrivateCopy.ttf")
    before = _application_fonts_of_the_process_config()
    PangoCairoTextRenderer(fallback_fonts_dir=tmp_path)(ADLAM_TEXT)
    assert _application_fonts_of_the_process_config() == before
    PangoCairoTextRenderer(use_system_fonts=True, fallback_fonts_dir=tmp_path)(ADLAM_TEXT)
    assert _application_fonts_of_the_process_config() > before  # system mode registers, like the original


def test_system_mode_sees_a_font_added_after_pango_was_used():
    # Pango caches fontconfig's font list; a font file registered later must still be the one drawn.
    free_sans = Path(pygame_package_dir()) / "freesansbold.ttf"
    PangoCairoTextRenderer(use_system_fonts=True)("warm up the default font map")
    system = PangoCairoTextRenderer(free_sans, use_system_fonts=True)("Hello")
    hermetic = PangoCairoTextRenderer(free_sans)("Hello")
    assert np.array_equal(system.pixel_values, hermetic.pixel_values)
    assert not np.array_equal(system.pixel_values, PangoCairoTextRenderer()("Hello").pixel_values)


def pygame_package_dir() -> str:
    import importlib.util

    return str(Path(importlib.util.find_spec("pygame").origin).parent)


def test_fallback_fonts_dir_is_used_and_replaces_the_default_set(tmp_path):
    shutil.copy(ADLAM_FONT, tmp_path / ADLAM_FONT.name)
    r = PangoCairoTextRenderer(fallback_fonts_dir=tmp_path)
    assert r(ADLAM_TEXT).unrenderable_chars == []
    assert r("שלום").unrenderable_chars == list("שלום")  # no Hebrew font in that folder
    system = PangoCairoTextRenderer(use_system_fonts=True)(ADLAM_TEXT).pixel_values
    assert np.array_equal(r(ADLAM_TEXT).pixel_values, system)


def test_default_font_needs_no_argument():
    r = PangoCairoTextRenderer()
    assert Path(r.font_file) == DEFAULT_FONT_FILE
    assert r("x").num_text_patches == 1


# ------------------------------------------------------------------------------------ folders, pickling
def test_save_and_load_round_trip(tmp_path, r):
    r2 = PangoCairoTextRenderer(max_seq_length=64, rgb=True)
    folder = r2.save_pretrained(tmp_path / "renderer")
    config = json.loads((folder / CONFIG_NAME).read_text())
    assert list(config) == sorted(config)
    assert config["font_file"] == "NotoSans-Regular.ttf"
    assert config["font_sha256"] == file_sha256(DEFAULT_FONT_FILE)
    assert config["text_renderer_type"] == "PangoCairoTextRenderer"
    assert (folder / "NotoSans-Regular.ttf").read_bytes() == DEFAULT_FONT_FILE.read_bytes()
    for loaded in (
        PangoCairoTextRenderer.from_pretrained(folder),
        TextRenderer.from_pretrained(folder),
        load_renderer(folder),
    ):
        assert isinstance(loaded, PangoCairoTextRenderer)
        assert (loaded.max_seq_length, loaded.rgb) == (64, True)
        for text in ("Round trip ✓", ("a", "b"), ["x", "y"]):
            assert np.array_equal(loaded(text).pixel_values, r2(text).pixel_values)
    assert PangoCairoTextRenderer.from_pretrained(folder, max_seq_length=16).max_seq_length == 16


def test_original_renderer_folder_loads(tmp_path):
    # As in Team-PIXEL repos: no hash, a fonts_list and a text_renderer_type of the original code.
    config = {
        "background_color": "white",
        "dpi": 120,
        "font_color": "black",
        "font_file": "NotoSans-Regular.ttf",
        "font_size": 8,
        "fonts_list": ["Noto Sans", "DejaVu Sans"],
        "max_seq_length": 196,
        "pad_size": 3,
        "pixels_per_patch": 16,
        "rgb": False,
        "text_renderer_type": "PangoCairoTextRenderer",
    }
    (tmp_path / CONFIG_NAME).write_text(json.dumps(config))
    shutil.copy(DEFAULT_FONT_FILE, tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = load_renderer(tmp_path)
    assert isinstance(loaded, PangoCairoTextRenderer) and loaded.max_seq_length == 196


def test_changed_font_warns_and_missing_font_names_the_path(tmp_path, r):
    folder = r.save_pretrained(tmp_path)
    font = folder / "NotoSans-Regular.ttf"
    shutil.copy("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", font)
    with pytest.warns(UserWarning, match="sha256"):
        PangoCairoTextRenderer.from_pretrained(folder)
    font.unlink()
    with pytest.raises(FileNotFoundError, match=str(font)):
        PangoCairoTextRenderer.from_pretrained(folder)


def test_changed_settings_take_effect():
    r = PangoCairoTextRenderer()
    r("warm up")
    r.max_seq_length = 64
    r.rgb = True
    assert r("now smaller").pixel_values.shape == (16, 1024, 3)


def test_pickled_renderer_renders_the_same(r):
    before = r(("pickle", "me"), return_offset_mapping=True)
    clone = pickle.loads(pickle.dumps(r))
    assert clone._native_handles is None
    after = clone(("pickle", "me"), return_offset_mapping=True)
    assert np.array_equal(before.pixel_values, after.pixel_values)
    assert before.offset_mapping == after.offset_mapping


# --------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("bad", [3, b"bytes", None, 1.5, {"a": 1}])
def test_non_text_input_is_a_type_error(r, bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        r(bad)


def test_bad_text_is_a_clear_error(r):
    with pytest.raises(TypeError, match="word 1 must be a str, got int"):
        r(["a", 2])
    with pytest.raises(TypeError, match="text pair item 1"):
        r(("a", None))
    with pytest.raises(ValueError, match="tuple of 2"):
        r(("a", "b", "c"))
    with pytest.raises(ValueError, match="lone surrogate"):
        r("bad \ud800 text")
    with pytest.raises(ValueError, match="word 0 contains a lone surrogate"):
        r(["\udfff"])
    with pytest.raises(ValueError, match="NUL"):
        r("a\x00b")
    with pytest.raises(ValueError, match="pairs only"):
        r("text", return_offset_mapping=True)
    with pytest.raises(ValueError, match="needs return_offset_mapping"):
        r(("a", "b"), return_overflowing_patches=True)
    with pytest.raises(ValueError, match="stride"):
        r(("a", "b"), stride=-1)
    with pytest.raises(ValueError, match="rtl"):
        r(["a"], rtl=True)


def test_bad_settings_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.ttf"):
        PangoCairoTextRenderer(tmp_path / "missing.ttf")
    not_a_font = tmp_path / "notes.ttf"
    not_a_font.write_text("hello")
    with pytest.raises(ValueError, match="notes.ttf"):
        PangoCairoTextRenderer(not_a_font)
    with pytest.raises(ValueError, match="max_seq_length"):
        PangoCairoTextRenderer(max_seq_length=1)
    with pytest.raises(FileNotFoundError, match="fallback_fonts_dir"):
        PangoCairoTextRenderer(fallback_fonts_dir=tmp_path / "nope")


@pytest.mark.parametrize("rtl", [False, True])
def test_the_surface_is_blank_after_thousands_of_colour_emoji(rtl):
    # cairo had skipped the CLEAR after such a strip (it believed the surface clear): the next showed its ink
    renderer = PangoCairoTextRenderer()
    renderer("👨\u200d👩\u200d👧" * 1000, rtl=rtl)
    assert renderer._native.pixels.max() == 0
    expected = PangoCairoTextRenderer()("hello").pixel_values
    np.testing.assert_array_equal(renderer("hello").pixel_values, expected)
