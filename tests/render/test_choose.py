"""pixel.render.choose: which renderer goes with a model, and which rendering it draws."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from pixel.render.base import DEFAULT_FONT_FILE
from pixel.render.choose import choose_renderer
from pixel.render.folder import CONFIG_NAME
from pixel.render.pangocairo import PangoCairoTextRenderer
from pixel.render.pygame import PyGameTextRenderer

TEXT = "My cat loves oatmeal."


@pytest.fixture()
def bigram_model(tmp_path: Path) -> Path:
    """A model folder whose renderer folder draws bigrams (the model's files are not needed here)."""
    folder = tmp_path / "bigram-model"
    PangoCairoTextRenderer(max_seq_length=64, rendering="bigrams").save_pretrained(folder)
    (folder / "config.json").write_text("{}")
    return folder


def same_pixels(a, b) -> bool:
    return np.array_equal(a(TEXT).pixel_values, b(TEXT).pixel_values)


def test_the_models_renderer_folder_is_used_and_a_contradicting_rendering_refused(bigram_model: Path) -> None:
    renderer, source = choose_renderer(None, bigram_model)
    assert renderer.rendering == "bigrams" and source == str(bigram_model)
    assert choose_renderer("pangocairo", bigram_model, "bigrams")[0].rendering == "bigrams"  # agrees: fine
    with pytest.raises(ValueError, match=r"draws rendering='bigrams', but rendering='continuous' was asked for.*"
                       r"--renderer .*bigram-model\) to render differently on purpose"):
        choose_renderer(None, bigram_model, "continuous")
    with pytest.raises(ValueError, match=r"draws bigram_unit='codepoint', but bigram_unit='grapheme'"):
        choose_renderer(None, bigram_model, bigram_unit="grapheme")


def test_a_named_folder_takes_the_requested_rendering(bigram_model: Path) -> None:
    renderer, source = choose_renderer(bigram_model, bigram_model, "continuous", max_seq_length=32)
    assert renderer.rendering == "continuous" and renderer.max_seq_length == 32 and source == str(bigram_model)
    assert same_pixels(renderer, PangoCairoTextRenderer(max_seq_length=32))
    grapheme = choose_renderer(bigram_model, None, bigram_unit="grapheme")[0]
    assert (grapheme.rendering, grapheme.bigram_unit) == ("bigrams", "grapheme")


def test_a_model_without_renderer_gets_a_fresh_one_or_a_clear_error(tmp_path: Path) -> None:
    model = tmp_path / "bare"
    model.mkdir()
    (model / "config.json").write_text("{}")
    renderer, source = choose_renderer(None, model, "mono", max_seq_length=16)
    assert renderer.rendering == "mono" and renderer.max_seq_length == 16
    assert source.startswith("a fresh PangoCairoTextRenderer (rendering='mono')") and "no renderer folder" in source
    with pytest.raises(FileNotFoundError, match=r"has no renderer folder \(text_renderer_config.json\); pass "
                       r"--renderer DIR .* or --renderer pangocairo"):
        choose_renderer(None, model, fresh=False)
    fresh = choose_renderer("pangocairo", model, "words", fresh=False, font_file=DEFAULT_FONT_FILE)[0]
    assert fresh.rendering == "words"
    assert same_pixels(fresh, PangoCairoTextRenderer(rendering="words"))
    default = choose_renderer(None, None)[0]
    assert isinstance(default, PangoCairoTextRenderer) and default.rendering == "continuous"


def test_the_renderer_subfolder_of_a_model_and_pygame(tmp_path: Path) -> None:
    model = tmp_path / "model"
    PangoCairoTextRenderer(rendering="words").save_pretrained(model / "renderer")
    assert choose_renderer(None, model)[0].rendering == "words"
    assert isinstance(choose_renderer("pygame", None, "continuous")[0], PyGameTextRenderer)
    with pytest.raises(ValueError, match="rendering 'bigrams' needs the pangocairo backend"):
        choose_renderer("pygame", None, "bigrams")
    with pytest.raises(ValueError, match="unknown rendering 'fancy'"):
        choose_renderer(None, None, "fancy")


def test_a_pixel_m4_folder_is_bigrams_and_keeps_them(tmp_path: Path) -> None:
    """PIXEL-M4's folder (no rendering field, the class name of the continuous renderer) is recognised by name."""
    folder = tmp_path / "models--Team-PIXEL--pixel-m4" / "snapshots" / "abc"
    folder.mkdir(parents=True)
    shutil.copy(DEFAULT_FONT_FILE, folder / "GoNotoCurrent.ttf")
    (folder / CONFIG_NAME).write_text(json.dumps({"font_file": "GoNotoCurrent.ttf", "max_seq_length": 529,
                                                  "text_renderer_type": "PangoCairoTextRenderer"}))
    assert choose_renderer(None, folder)[0].rendering == "bigrams"
    with pytest.raises(ValueError, match="draws rendering='bigrams'"):
        choose_renderer(None, folder, "continuous")
