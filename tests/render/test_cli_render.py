"""`pixel render` and `pixel demo` command lines."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pixel.cli.main import main
from pixel.render.base import DEFAULT_FONT_FILE
from pixel.render.pygame import PyGameTextRenderer


def read_png(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


def test_render_writes_the_strip_cropped_after_the_end_patch(tmp_path: Path, capsys) -> None:
    out = tmp_path / "hello.png"
    assert main(["render", "Hello world!", "-o", str(out), "--renderer", "pygame"]) == 0

    expected = PyGameTextRenderer(DEFAULT_FONT_FILE)("Hello world!")  # 5 text patches + end patch
    image = read_png(out)
    assert image.shape == (16, 6 * 16)
    assert np.array_equal(image, expected.pixel_values[:, : 6 * 16])
    assert "num_text_patches: 5" in capsys.readouterr().out


def test_render_reads_stdin_and_keeps_the_full_strip(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("Hello world!\n"))
    out = tmp_path / "stdin.png"
    args = ["render", "-o", str(out), "--renderer", "pygame", "--full", "--max-seq-length", "32"]
    assert main(args) == 0
    image = read_png(out)
    assert image.shape == (16, 512)
    expected = PyGameTextRenderer(DEFAULT_FONT_FILE, max_seq_length=32)("Hello world!")
    assert np.array_equal(image, expected.pixel_values)
    assert "num_text_patches: 5" in capsys.readouterr().out


def test_render_words_with_grid_and_rgb(tmp_path: Path, capsys) -> None:
    out = tmp_path / "words.png"
    assert main(["render", "one two  three", "--words", "--show-grid", "--rgb", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    num_text_patches = int(printed.split("num_text_patches: ")[1].split()[0])
    image = read_png(out)
    assert image.shape == (64, (num_text_patches + 1) * 64, 3)
    assert "word_starts: [0," in printed
    # The end patch is black inside its red frame.
    end = num_text_patches * 64
    assert (image[8:56, end + 8 : end + 56] == 0).all()
    assert tuple(image[0, end + 10]) == (230, 40, 40)


@pytest.mark.parametrize("rendering", ["bigrams", "words", "mono"])
def test_render_structured_renderings(tmp_path: Path, capsys, rendering: str) -> None:
    from pixel.render.pangocairo import PangoCairoTextRenderer

    out = tmp_path / f"{rendering}.png"
    assert main(["render", "My cat loves oatmeal.", "--rendering", rendering, "-o", str(out)]) == 0
    expected = PangoCairoTextRenderer(rendering=rendering)("My cat loves oatmeal.")
    n = expected.num_text_patches
    assert np.array_equal(read_png(out), expected.pixel_values[:, : (n + 1) * 16])
    printed = capsys.readouterr().out
    assert f"num_text_patches: {n}" in printed and f"word_starts: {expected.word_starts}" in printed


def test_render_pair_uses_two_separators(tmp_path: Path, capsys) -> None:
    out = tmp_path / "pair.png"
    assert main(["render", "Question?", "--pair", "Answer.", "--renderer", "pygame", "-o", str(out)]) == 0
    image = read_png(out)
    expected = PyGameTextRenderer(DEFAULT_FONT_FILE)(("Question?", "Answer."))
    assert image.shape[1] == (expected.sep_patches[1] + 1) * 16
    assert (image[:, expected.sep_patches[0] * 16 : expected.sep_patches[0] * 16 + 16] == 0).all()


def test_render_reports_unrenderable_characters(tmp_path: Path, capsys) -> None:
    assert main(["render", "a 中", "--renderer", "pygame", "-o", str(tmp_path / "box.png")]) == 0
    assert "unrenderable characters (drawn as boxes): U+4E2D 中" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--font", "/no/such/font.ttf"], "/no/such/font.ttf"),
        (["--words", "--pair", "b"], "exclude each other"),
        (["--rendering", "bigrams", "--renderer", "pygame"], "needs --renderer pangocairo"),
    ],
)
def test_render_errors_cleanly(tmp_path: Path, capsys, args: list[str], message: str) -> None:
    out = tmp_path / "x.png"
    assert main(["render", "text", "-o", str(out), *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("pixel render: error:") and message in err
    assert "Traceback" not in err
    assert not out.exists()


def test_render_into_a_missing_folder_errors_cleanly(tmp_path: Path, capsys) -> None:
    assert main(["render", "text", "-o", str(tmp_path / "missing" / "x.png"), "--renderer", "pygame"]) == 1
    assert "output folder does not exist" in capsys.readouterr().err


def test_demo_writes_one_picture_per_sample_and_an_overview(tmp_path: Path, capsys) -> None:
    from pixel.cli.demo import SAMPLES

    assert main(["demo", "--output-dir", str(tmp_path / "demo"), "--scale", "2"]) == 0
    written = sorted(path.name for path in (tmp_path / "demo").iterdir())
    from pixel.cli.reconstruct import shipped_model

    reconstruction = ["reconstruction.png"] if shipped_model() is not None else []
    assert written == sorted([f"{name}.png" for name in SAMPLES] + ["overview.png"] + reconstruction)
    english = read_png(tmp_path / "demo" / "english.png")
    assert english.shape[0] == 32 and english.shape[1] % 32 == 0 and english.ndim == 3
    overview = read_png(tmp_path / "demo" / "overview.png")
    assert overview.shape[0] > 32 * len(SAMPLES)
    printed = capsys.readouterr().out
    assert printed.count("wrote ") == len(SAMPLES) + 1 + len(reconstruction)


def test_demo_overview_starts_with_one_sentence_in_every_rendering(tmp_path: Path, capsys) -> None:
    """overview.png: RENDERINGS_SAMPLE drawn by each rendering, one under the other at the top (8 px margins,
    a 14 px label above each), then the samples."""
    from pixel.cli.demo import RENDERINGS_SAMPLE
    from pixel.render.pangocairo import PangoCairoTextRenderer
    from pixel.render.picture import crop_to_text, draw_patch_grid
    from pixel.render.structured import RENDERINGS

    assert main(["demo", "--output-dir", str(tmp_path), "--scale", "2"]) == 0
    overview = read_png(tmp_path / "overview.png")
    y, pictures = 8, []
    for name in RENDERINGS:
        encoding = PangoCairoTextRenderer(rendering=name)(RENDERINGS_SAMPLE)
        picture = draw_patch_grid(crop_to_text(encoding), 16, encoding.sep_patches, 2)
        y += 14
        assert np.array_equal(overview[y : y + picture.shape[0], 8 : 8 + picture.shape[1]], picture), name
        y += picture.shape[0] + 8
        pictures.append(picture)
    assert len({picture.tobytes() for picture in pictures}) == 4  # four different drawings of the sentence
    printed = capsys.readouterr().out
    assert all(f"rendering={name}:" in printed for name in RENDERINGS)


def stdin_bytes(monkeypatch, data: bytes) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="surrogateescape"))


def test_render_of_a_megabyte_on_stdin_fills_the_strip(tmp_path: Path, capsys, monkeypatch) -> None:
    # It wrote a blank 32 px PNG (Pango's width overflowed) and exited 0.
    stdin_bytes(monkeypatch, b"lorem ipsum " * 90_000)
    out = tmp_path / "long.png"
    assert main(["render", "-o", str(out)]) == 0
    image = read_png(out)
    assert image.shape == (16, 529 * 16) and (image[:, : 528 * 16] < 255).any(axis=0).mean() > 0.5
    assert "num_text_patches: 528" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "no TEXT given: stdin is empty"),
        (b"\n\n", "no TEXT given: stdin is empty"),
        (b"caf\xe9 au lait", r"stdin is not UTF-8 text \(byte 0xe9 at offset 3\); convert it first, e.g. iconv"),
    ],
)
def test_render_refuses_empty_or_non_utf8_stdin(tmp_path: Path, capsys, monkeypatch, data, message) -> None:
    stdin_bytes(monkeypatch, data)
    assert main(["render", "-o", str(tmp_path / "x.png")]) == 1
    error = capsys.readouterr().err
    assert re.search(message, error), error
    assert not (tmp_path / "x.png").exists()


def test_a_text_argument_that_is_not_utf8_is_named_so() -> None:
    from pixel.render.base import check_text

    with pytest.raises(ValueError, match=r"TEXT is not UTF-8: byte 0xe9 at character 3 could not be decoded"):
        check_text(b"caf\xe9".decode("utf-8", "surrogateescape"), "TEXT")
