"""Renderer folders: the backend registry, one loader, settings stored and restored by their names."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from pixel.render import folder
from pixel.render.base import DEFAULT_FONT_FILE, TextRenderer
from pixel.render.folder import CONFIG_NAME, backend_of, load_renderer, renderer_class, renderer_settings
from pixel.render.pangocairo import PangoCairoTextRenderer
from pixel.render.pygame import PyGameTextRenderer


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


class StripedRenderer(PangoCairoTextRenderer):
    """A stand-in for a new renderer family: one module (this one) with one setting of its own."""

    def __init__(self, font_file=None, *, rendering: str = "continuous", **settings) -> None:
        super().__init__(font_file, **settings)
        self.rendering = rendering


def test_a_new_family_is_one_class_plus_one_registry_line(tmp_path, monkeypatch):
    monkeypatch.setitem(folder.BACKENDS, "striped", ("test_render_folder", "StripedRenderer"))
    StripedRenderer(rendering="bigrams", max_seq_length=32).save_pretrained(tmp_path)
    config = json.loads((tmp_path / CONFIG_NAME).read_text())
    assert (config["rendering"], config["text_renderer_type"]) == ("bigrams", "StripedRenderer")
    for loaded in (load_renderer(tmp_path), TextRenderer.from_pretrained(tmp_path),
                   StripedRenderer.from_pretrained(tmp_path)):
        assert type(loaded) is StripedRenderer
        assert (loaded.rendering, loaded.max_seq_length) == ("bigrams", 32)
    assert load_renderer(tmp_path, rendering="words").rendering == "words"
    with warnings.catch_warnings():  # its setting is known to the registry: PangoCairo drops it silently
        warnings.simplefilter("error")
        assert type(load_renderer(tmp_path, backend="pangocairo")) is PangoCairoTextRenderer


def test_backends_declare_only_their_own_settings(tmp_path):
    common = ["font_file", "font_size", "dpi", "pixels_per_patch", "max_seq_length", "rgb", "fallback_fonts_dir"]
    assert renderer_settings(TextRenderer) == common
    assert sorted(renderer_settings(PangoCairoTextRenderer)) == sorted([*common, "use_system_fonts", "rendering", "bigram_unit"])
    assert sorted(renderer_settings(PyGameTextRenderer)) == sorted(
        [*common, "pad_size", "font_color", "background_color"]
    )
    with pytest.raises(TypeError, match="pad_size"):
        PangoCairoTextRenderer(pad_size=3)
    config = json.loads((PangoCairoTextRenderer().save_pretrained(tmp_path / "p") / CONFIG_NAME).read_text())
    assert not {"pad_size", "font_color", "background_color", "fallback_fonts_dir"} & set(config)
    pygame = PyGameTextRenderer(pad_size=4).save_pretrained(tmp_path / "g")
    assert json.loads((pygame / CONFIG_NAME).read_text())["pad_size"] == 4
    assert load_renderer(pygame).pad_size == 4


def test_a_pygame_folder_loads_as_pangocairo_and_back_without_warnings(tmp_path):
    PyGameTextRenderer(max_seq_length=32).save_pretrained(tmp_path / "g")
    PangoCairoTextRenderer(max_seq_length=32, use_system_fonts=True).save_pretrained(tmp_path / "p")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        forced = load_renderer(tmp_path / "g", backend="pangocairo")
        back = load_renderer(tmp_path / "p", backend="pygame")
    assert type(forced) is PangoCairoTextRenderer and type(back) is PyGameTextRenderer
    assert np.array_equal(forced("same text").pixel_values, PangoCairoTextRenderer(max_seq_length=32)("same text").pixel_values)


def test_unknown_keys_warn(tmp_path):
    PangoCairoTextRenderer(max_seq_length=32).save_pretrained(tmp_path)
    config = json.loads((tmp_path / CONFIG_NAME).read_text())
    (tmp_path / CONFIG_NAME).write_text(json.dumps({**config, "colour": "red"}))
    with pytest.warns(UserWarning, match="ignoring unknown key 'colour'"):
        load_renderer(tmp_path)


# ------------------------------------------------------------------ a named font that is not in the folder
HASHED = "49e6dc219d1a1a1c9236acaf05a48b542002016a6dc877ee72baab085a84257b.3f28e7f4b38e1efe1b6da4a3732404c1"


def original_folder(path, font_file, fonts):
    """A renderer folder as the Team-PIXEL repos have it: config naming ``font_file``, files ``fonts``."""
    path.mkdir(parents=True)
    for name in fonts:
        shutil.copy(DEFAULT_FONT_FILE, path / name)
    config = {"font_file": font_file, "font_size": 8, "dpi": 120, "max_seq_length": 529, "pixels_per_patch": 16,
              "rgb": False, "pad_size": 3, "fonts_list": ["Noto Sans"], "text_renderer_type": "PangoCairoTextRenderer"}
    (path / CONFIG_NAME).write_text(json.dumps(config))
    (path / "config.json").write_text("{}")
    return path


@pytest.mark.parametrize(
    "named, present",
    [(HASHED, "GoNotoCurrent.ttf"),  # PIXEL-M4's last-checkpoint/: a hashed cache name for GoNotoCurrent.ttf
     ("GoNotoCurrent.ttf", HASHED)],  # the font stored under its cache name only (no suffix: found by its bytes)
)
def test_a_missing_named_font_falls_back_to_the_only_font(tmp_path, named, present):
    path = original_folder(tmp_path / "last-checkpoint", named, [present])
    with pytest.warns(UserWarning, match=f"the font '{named}' it names is not there; using {present}"):
        renderer = load_renderer(path)
    assert Path(renderer.font_file) == path / present
    reference = PangoCairoTextRenderer(font_file=DEFAULT_FONT_FILE)
    assert np.array_equal(renderer("Ünïcode text").pixel_values, reference("Ünïcode text").pixel_values)


def test_a_missing_named_font_without_a_single_stand_in_is_a_clear_error(tmp_path):
    two = original_folder(tmp_path / "two", HASHED, ["GoNotoCurrent.ttf", "NotoSans-Regular.otf"])
    with pytest.raises(FileNotFoundError, match=r"no 49e6.* in the renderer folder .*two/49e6.* does not exist\), "
                       r"and no other font can stand in for '49e6.*': the folder holds 2 font files "
                       r"\(GoNotoCurrent.ttf, NotoSans-Regular.otf\); its files: .*config.json.*font_file=PATH"):
        load_renderer(two)
    none = original_folder(tmp_path / "none", "GoNotoCurrent.ttf", [])
    with pytest.raises(FileNotFoundError, match=r"none/GoNotoCurrent.ttf does not exist.*holds no font file "
                       r"\(.ttf, .otf, .ttc\); its files: config.json, text_renderer_config.json"):
        load_renderer(none)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Path(load_renderer(none, font_file=DEFAULT_FONT_FILE).font_file) == DEFAULT_FONT_FILE  # own font


def test_a_hub_repo_falls_back_to_its_only_font(tmp_path, monkeypatch):
    import huggingface_hub
    from huggingface_hub.utils import EntryNotFoundError

    repo = original_folder(tmp_path / "pixel-m4", HASHED, ["GoNotoCurrent.ttf"])

    def download(repo_id, filename, revision=None):
        if not (repo / filename).is_file():
            raise EntryNotFoundError(f"{filename} not found")
        return str(repo / filename)

    listed = ["GoNotoCurrent.ttf", "config.json", "last-checkpoint/GoNotoCurrent.ttf", CONFIG_NAME]
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)
    monkeypatch.setattr(huggingface_hub, "list_repo_files", lambda repo_id, revision=None: listed)
    with pytest.warns(UserWarning, match="using GoNotoCurrent.ttf"):
        renderer = load_renderer("Team-PIXEL/pixel-m4")
    assert Path(renderer.font_file) == repo / "GoNotoCurrent.ttf" and renderer.rendering == "bigrams"
