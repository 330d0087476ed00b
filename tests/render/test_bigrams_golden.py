"""Replay PIXEL-M4's bigram renderer's golden cases (tests/data/golden/render-bigrams) pixel for pixel.

As its README prescribes: NotoSans-Regular.ttf (shipped in pixel/render/fonts) with the system fontconfig
fallback (``use_system_fonts=True``) on a machine with the Debian font packages it lists. Every case of
cases.json is replayed, so further cases dropped into that folder are checked too.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pixel.render.base import DEFAULT_FONT_FILE
from pixel.render.folder import file_sha256
from pixel.render.pangocairo import PangoCairoTextRenderer

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden" / "render-bigrams"
CASES = json.loads((GOLDEN / "cases.json").read_text(encoding="utf-8"))
VERSIONS = json.loads((GOLDEN / "versions.json").read_text(encoding="utf-8"))

_renderers: dict[tuple, PangoCairoTextRenderer] = {}


def renderer(**init) -> PangoCairoTextRenderer:
    key = tuple(sorted(init.items()))
    if key not in _renderers:
        _renderers[key] = PangoCairoTextRenderer(
            DEFAULT_FONT_FILE, use_system_fonts=True, rendering="bigrams", **init
        )
    return _renderers[key]


def replay(case: dict):
    r = renderer(**(case.get("init") or {}))
    text = {"pair": tuple, "list": list, "str": str}[case["kind"]](case["input"])
    call = dict(case.get("call") or {})
    if call.get("return_overflowing_patches"):
        call["return_offset_mapping"] = True  # ours needs both (PIXEL-M4 computed no offsets at all)
    return r, r(text, **call)


def golden(case_id: str) -> dict:
    return json.loads((GOLDEN / f"{case_id}.json").read_text(encoding="utf-8"))


def assert_same_window(ours, expected: dict, name: str, ppp: int) -> None:
    image = np.array(Image.open(GOLDEN / expected["image"]))
    assert ours.pixel_values.dtype == np.uint8
    assert ours.pixel_values.shape == image.shape, name
    differing = int((ours.pixel_values != image).sum())
    assert differing == 0, f"{name}: {differing} pixel values differ from PIXEL-M4's render"
    assert ours.num_text_patches == expected["num_text_patches"], name
    if expected.get("word_starts") is not None:
        assert ours.word_starts == expected["word_starts"], name


def test_shipped_font_is_the_golden_font():
    assert file_sha256(DEFAULT_FONT_FILE) == VERSIONS["font_file"]["sha256"]


@pytest.mark.parametrize("case", CASES["cases"], ids=lambda c: c["id"])
def test_golden_case_is_pixel_identical(case):
    expected = golden(case["id"])
    r, ours = replay(case)
    ppp = r.pixels_per_patch
    if expected.get("error"):
        # PIXEL-M4 raised IndexError on a text without words; ours gives the empty strip (documented fix).
        assert expected["error"]["type"] == "IndexError"
        assert ours.num_text_patches == 0 and ours.sep_patches == [0]
        assert (ours.pixel_values[:, :ppp] == 0).all() and (ours.pixel_values[:, ppp:] == 255).all()
        return
    assert_same_window(ours, expected, case["id"], ppp)
    assert ours.sep_patches == expected["sep_patches"]  # patch indices in PIXEL-M4 too (main encoding)
    if case["kind"] == "pair":
        assert ours.word_starts is None
    windows = expected.get("overflowing_patches") or []
    assert len(ours.overflowing_patches or []) == len(windows)
    for k, (window, expected_window) in enumerate(zip(ours.overflowing_patches or [], windows, strict=True)):
        assert_same_window(window, expected_window, f"{case['id']} overflow {k}", ppp)
        # PIXEL-M4 gave windows the main window's separators plus its own end, in pixels; ours: the window's
        # separator and end patch, as patch indices.
        first, *_middle, last = expected_window["sep_patches"]
        assert window.sep_patches == [first // ppp, last // ppp]


def test_whitespace_only_text_and_pair_sides_give_empty_rows():
    r = renderer()
    for text in ["", "   \t ", "\u3000"]:
        encoding = r(text)
        assert (encoding.num_text_patches, encoding.sep_patches, encoding.word_starts) == (0, [0], [0])
    pair = r(("", "My cat"), return_offset_mapping=True)
    assert pair.sep_patches[0] == 0
    assert pair.pixel_values[:, 16:32].min() < 255  # text_b starts right after the separator
    assert r(("My cat", " ")).sep_patches == [4, 5]
