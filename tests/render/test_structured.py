"""Structured renderings (bigrams, words, mono): geometry invariants, cached ink = Pango's drawing, folders."""

from __future__ import annotations

import json
import logging
import pickle
import shutil

import numpy as np
import pytest

from pixel.render.base import DEFAULT_FONT_FILE, TextRenderer
from pixel.render.folder import CONFIG_NAME, load_renderer
from pixel.render.pangocairo import PangoCairoTextRenderer
from pixel.render.structured import MONO_FONT_FILE, RENDERINGS

STRUCTURED = ["bigrams", "words", "mono"]
PPP = 16
# No colour emoji: for black-on-white glyphs, every RGB channel equals the grey render exactly.
TEXTS = [
    "My cat loves oatmeal.",
    "Größere Übungen für Äpfel und Straßenbahn, fjord jiffy ffi (x_j) {y}.",
    "Привіт, світе! Ґанок і їжачок.",
    "नमस्ते दुनिया, क्षत्रिय और ज्ञान।",
    "今天天气很好，我们去公园散步。",
    "שלום עולם, מה שלומך?",
    "مرحبا بالعالم",
    "café näive ñ ậ ภาษาไทย",
]

_renderers: dict[tuple, PangoCairoTextRenderer] = {}


def renderer(rendering: str, **kwargs) -> PangoCairoTextRenderer:
    key = (rendering, tuple(sorted(kwargs.items())))
    if key not in _renderers:
        _renderers[key] = PangoCairoTextRenderer(rendering=rendering, **kwargs)
    return _renderers[key]


def block(image: np.ndarray, first: int, last: int) -> np.ndarray:
    return image[:, first * PPP : last * PPP]


def test_registry_and_settings():
    assert list(RENDERINGS) == ["continuous", "bigrams", "words", "mono"]
    assert PangoCairoTextRenderer().rendering == "continuous"
    with pytest.raises(ValueError, match="unknown rendering 'trigrams'"):
        PangoCairoTextRenderer(rendering="trigrams")
    with pytest.raises(ValueError, match="bigram_unit"):
        PangoCairoTextRenderer(rendering="bigrams", bigram_unit="byte")
    assert PangoCairoTextRenderer(rendering="mono").font_file == str(MONO_FONT_FILE)
    assert PangoCairoTextRenderer(DEFAULT_FONT_FILE, rendering="mono").font_file == str(DEFAULT_FONT_FILE)


@pytest.mark.parametrize(
    "rendering, unit",
    [("bigrams", "codepoint"), ("bigrams", "grapheme"), ("words", "codepoint"), ("mono", "codepoint")],
)
def test_cached_ink_equals_drawing_every_layout_with_pango(rendering, unit):
    # Grey renders paste cached ink; RGB renders draw every layout with Pango, like the reference renderers.
    grey = renderer(rendering, bigram_unit=unit)
    rgb = renderer(rendering, bigram_unit=unit, rgb=True)
    inputs = [*TEXTS, " ".join(TEXTS), (TEXTS[0], TEXTS[1]), (TEXTS[5], TEXTS[6]), TEXTS[2].split()]
    for text in inputs * 2:  # the second round is all cache hits
        a, b = grey(text), rgb(text)
        assert (a.num_text_patches, a.sep_patches, a.word_starts) == (
            b.num_text_patches,
            b.sep_patches,
            b.word_starts,
        )
        assert (b.pixel_values == b.pixel_values[:, :, :1]).all()
        differing = int((a.pixel_values != b.pixel_values[:, :, 0]).sum())
        assert differing == 0, f"{rendering}: {differing} pixels differ for {text!r:.40}"


@pytest.mark.parametrize("rendering", STRUCTURED)
def test_same_word_same_patches_wherever_it_is(rendering):
    # Bigrams and words start every word on a patch boundary, mono on a cell grid: a repeated word (not the
    # first, which sits 2 px in for words) has identical patches at both places.
    text = "a oatmeal b oatmeal cc oatmeal"
    encoding = renderer(rendering)(text)
    starts = encoding.word_starts
    assert starts[0] == 0 and starts[-1] == encoding.num_text_patches and starts == sorted(starts)
    pieces = [block(encoding.pixel_values, starts[i], starts[i + 1]) for i in (1, 3, 5)]
    if rendering == "mono":  # "a " + word: cell 2; "b " + word: cell 12 (both even, i.e. patch aligned)
        pieces = pieces[:2]
    assert all(np.array_equal(pieces[0], p) for p in pieces[1:])


def test_bigrams_put_two_characters_per_patch_and_words_on_patch_starts():
    pair = renderer("bigrams")(("My cat", "loves oatmeal."), return_offset_mapping=True)
    a_spans = pair.offset_mapping[: pair.sep_patches[0]]
    assert a_spans == [(0, 2), (0, 2), (3, 5), (5, 6)]  # "My" takes 2 patches, then "ca", "t"
    b_spans = pair.offset_mapping[pair.sep_patches[0] + 1 : pair.num_text_patches]
    assert all(hi - lo in (1, 2) for lo, hi in b_spans)
    assert (b_spans[0][0], b_spans[-1][1]) == (0, len("loves oatmeal."))


def test_bigram_unit_grapheme_keeps_clusters_whole():
    text = "क्षत्रिय 👨‍👩‍👧"
    by_codepoint = renderer("bigrams")(("a", text), return_offset_mapping=True)
    by_cluster = renderer("bigrams", bigram_unit="grapheme")(("a", text), return_offset_mapping=True)
    # Offsets of cluster pairs only start at cluster starts; code point pairs cut inside them.
    cluster_starts = {0, 3, 7, 9}  # क्ष | त्रि | य, then the family emoji (a word of its own)
    spans = by_cluster.offset_mapping[by_cluster.sep_patches[0] + 1 : by_cluster.num_text_patches]
    assert {lo for lo, _hi in spans} <= cluster_starts
    spans = by_codepoint.offset_mapping[by_codepoint.sep_patches[0] + 1 : by_codepoint.num_text_patches]
    assert not {lo for lo, _hi in spans} <= cluster_starts


def test_mono_holds_two_characters_per_patch():
    text = "Pixellanguagemodelsreadtext"
    pair = renderer("mono")((text, "x"), return_offset_mapping=True)
    spans = pair.offset_mapping[: pair.sep_patches[0]]
    assert spans == [(i, min(i + 2, len(text))) for i in range(0, len(text), 2)]
    spaced = renderer("mono")("ab cd ef")  # one blank cell between words: ab| c|d |ef
    assert spaced.word_starts == [0, 1, 3, 4]
    # A wide glyph takes whole cells: a CJK ideograph (13-14 px) two cells, i.e. one patch.
    assert renderer("mono")("今天天气").num_text_patches == 4


def test_words_list_is_the_continuous_word_list():
    continuous = PangoCairoTextRenderer()
    for words in [TEXTS[0].split(), ["New York", "", "x"], TEXTS[1].split() * 12]:
        a, b = continuous(words), renderer("words")(words)
        assert np.array_equal(a.pixel_values, b.pixel_values)
        assert (a.num_text_patches, a.word_starts) == (b.num_text_patches, b.word_starts)
    # Running text = the word list of its words.
    assert np.array_equal(renderer("words")(TEXTS[0]).pixel_values, continuous(TEXTS[0].split()).pixel_values)
    with pytest.raises(ValueError, match="rtl=True"):
        renderer("words")(["a"], rtl=True)


@pytest.mark.parametrize("rendering", STRUCTURED)
def test_right_to_left_text_reverses_the_word_order(rendering):
    r = renderer(rendering)
    text = "שלום עולם"
    forward = r(text.split()).pixel_values  # a word list keeps its order
    backward = r(text.split()[::-1]).pixel_values
    assert np.array_equal(r(text).pixel_values[:, :64], backward[:, :64])
    assert not np.array_equal(forward[:, :64], backward[:, :64])


@pytest.mark.parametrize("rendering", STRUCTURED)
def test_pairs_truncation_and_overflow_windows(rendering):
    r = renderer(rendering, max_seq_length=48)
    question, context = "Who reads pixels?", " ".join(["Pixel models read rendered text."] * 12)
    encoding = r((question, context), return_offset_mapping=True, return_overflowing_patches=True, stride=2)
    sep, eos = encoding.sep_patches
    assert eos == encoding.num_text_patches <= 47
    assert encoding.sequence_ids[:sep] == [0] * sep and encoding.sequence_ids[sep] is None
    windows = encoding.overflowing_patches
    assert len(windows) >= 2
    for window in windows:
        assert window.sep_patches[0] == sep and window.num_text_patches <= 47
        assert np.array_equal(
            block(window.pixel_values, 0, sep + 1), block(encoding.pixel_values, 0, sep + 1)
        )
        assert len(window.offset_mapping) == 48
    # Every character of the context is in some window.
    seen = set()
    for e in [encoding, *windows]:
        for lo, hi in e.offset_mapping[e.sep_patches[0] + 1 : e.num_text_patches]:
            seen.update(range(min(lo, hi), max(lo, hi)))
    assert {i for i, c in enumerate(context) if not c.isspace()} <= seen
    limited = r((question, context), text_a_max_length=3)
    assert limited.sep_patches[0] <= 3


@pytest.mark.parametrize("rendering", STRUCTURED)
def test_renderer_folder_stores_and_restores_the_rendering(rendering, tmp_path):
    r = PangoCairoTextRenderer(rendering=rendering, bigram_unit="grapheme", max_seq_length=64)
    r.save_pretrained(tmp_path)
    config = json.loads((tmp_path / CONFIG_NAME).read_text())
    assert (config["rendering"], config["bigram_unit"]) == (rendering, "grapheme")
    for loaded in (TextRenderer.from_pretrained(tmp_path), load_renderer(tmp_path)):
        assert (loaded.rendering, loaded.bigram_unit) == (rendering, "grapheme")
        assert np.array_equal(loaded(TEXTS[0]).pixel_values, r(TEXTS[0]).pixel_values)
    assert load_renderer(tmp_path, rendering="continuous").rendering == "continuous"
    with pytest.raises(ValueError, match="does not draw"):
        load_renderer(tmp_path, backend="pygame")
    clone = pickle.loads(pickle.dumps(r))
    assert np.array_equal(clone(TEXTS[3]).pixel_values, r(TEXTS[3]).pixel_values)


def write_original_folder(folder, text_renderer_type="PangoCairoTextRenderer"):
    """A renderer folder as PIXEL-M4 / the original write it (no rendering field, fonts_list)."""
    folder.mkdir(parents=True)
    shutil.copy(DEFAULT_FONT_FILE, folder / "49e6dc21b542002016a6dc877ee72baab085a84257b.3f28e7f4")
    config = {
        "background_color": "white",
        "dpi": 120,
        "font_color": "black",
        "font_file": "49e6dc21b542002016a6dc877ee72baab085a84257b.3f28e7f4",
        "font_size": 8,
        "fonts_list": ["Noto Sans"],
        "max_seq_length": 529,
        "pad_size": 3,
        "pixels_per_patch": 16,
        "rgb": False,
        "text_renderer_type": text_renderer_type,
    }
    (folder / CONFIG_NAME).write_text(json.dumps(config))
    return folder


@pytest.mark.parametrize(
    "path, expected",
    [
        ("models--Team-PIXEL--pixel-m4/snapshots/0123abc/last-checkpoint", "bigrams"),
        ("Team-PIXEL/pixel-m4", "bigrams"),
        ("pixel-small-bigrams", "bigrams"),
        ("Team-PIXEL/pixel-base-mono", "mono"),
        ("pixel-tiny-words", "words"),
        ("Team-PIXEL/pixel-base-continuous", "continuous"),
        ("Team-PIXEL/pixel-base", "continuous"),
    ],
)
def test_original_folders_are_recognised_by_repository_name(tmp_path, caplog, path, expected):
    folder = write_original_folder(tmp_path / path)
    with caplog.at_level(logging.INFO, logger="pixel.render.structured"):
        loaded = TextRenderer.from_pretrained(folder)
    assert isinstance(loaded, PangoCairoTextRenderer) and loaded.rendering == expected
    said = [rec.getMessage() for rec in caplog.records if "rendering=" in rec.getMessage()]
    if path == "Team-PIXEL/pixel-base":
        assert said == []
    else:
        assert said == [
            f"renderer folder {folder}: rendering={expected!r} "
            f"(recognised from the known repository name in {str(folder)!r})"
        ]


def test_original_folders_are_recognised_by_renderer_type(tmp_path):
    folder = write_original_folder(tmp_path / "lotz", text_renderer_type="PangoCairoBigramsRenderer")
    assert load_renderer(folder).rendering == "bigrams"
    folder = write_original_folder(tmp_path / "m4" / "pixel-m4")
    assert load_renderer(folder, rendering="continuous").rendering == "continuous"  # an explicit choice wins
    with pytest.raises(ValueError, match="PyGameTextRenderer does not draw"):
        load_renderer(tmp_path / "lotz", backend="pygame")
