"""`pixel explain` on fine-tuned tiny folders: the picture, the printed maps, and the clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from pixel.cli.main import main

from .conftest import TASK_DATA, finetune_command


@pytest.fixture(scope="module")
def cls_model(tiny_pretrained, tmp_path_factory):
    """A CLS-pooled sentiment classifier fine-tuned for the smoke recipe's 4 steps on sst2.tsv."""
    out = tmp_path_factory.mktemp("explain") / "cls"
    assert main(finetune_command("classification", tiny_pretrained, TASK_DATA / "sst2.tsv", out, None,
                                 "--pooling_mode", "cls")) == 0
    return out


def _maps(printed: str) -> list[dict]:
    return [json.loads(line) for line in printed.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("method", ["chefer", "gradient"])
def test_classifier_map_and_picture(cls_model, tmp_path, capsys, method):
    picture = tmp_path / "map.png"
    assert main(["explain", "--model", str(cls_model), "--device", "cpu", "--method", method, "--json",
                 "--output", str(picture), "a charming journey"]) == 0
    printed = capsys.readouterr().out
    [record] = _maps(printed)
    config = json.loads((cls_model / "config.json").read_text())
    assert record["label"] in config["id2label"].values() and record["read_out"] == "cls"
    values = np.array(record["values"])
    assert values.shape == (32,) and (values >= 0).all() and values.max() > 0
    assert (values[np.flatnonzero(values)[-1] + 1 :] == 0).all()  # the padding after the text
    with Image.open(picture) as image:
        assert image.mode == "RGB" and image.size[0] > 100
    assert f"pixel explain: {method} relevance of 1 prediction(s) drawn in {picture}" in printed


def test_tagger_every_word_or_one(pos_model, tmp_path, capsys):
    picture = tmp_path / "words.png"
    assert main(["explain", "--model", str(pos_model), "--device", "cpu", "--json", "--output", str(picture),
                 "The cat sleeps ."]) == 0
    records = _maps(capsys.readouterr().out)
    assert [r["word"] for r in records] == [0, 1, 2, 3]
    assert main(["explain", "--model", str(pos_model), "--device", "cpu", "--output", str(picture), "--word", "1",
                 "The cat sleeps ."]) == 0
    printed = capsys.readouterr().out
    assert f"word 1 'cat'; most relevant patches: {records[1]['patch']} " in printed


def test_errors_name_the_problem(cls_model, pos_model, tiny_pretrained, tmp_path, capsys):
    assert main(["explain", "--model", str(cls_model), "--device", "cpu", "--word", "0", "--output",
                 str(tmp_path / "x.png"), "a film"]) == 1
    assert "--word and --patch choose a position of a POS/NER model" in capsys.readouterr().err
    assert main(["explain", "--model", str(pos_model), "--device", "cpu", "--label", "NOUN", "--output",
                 str(tmp_path / "x.png"), "The cat"]) == 1
    assert "--label needs --word or --patch" in capsys.readouterr().err
    assert main(["explain", "--model", str(cls_model), "--output", str(tmp_path / "x.jpg"), "a film"]) == 1
    assert "must end in .png" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()

    from pixel.model.heads import PIXELForQuestionAnswering
    from pixel.model.pixel import PIXELForPreTraining
    from pixel.render.folder import load_renderer

    qa_folder = tmp_path / "qa"
    qa = PIXELForQuestionAnswering(PIXELForPreTraining.from_pretrained(tiny_pretrained).config.copy())
    qa.config.pixel_task = "qa"
    qa.save_pretrained(qa_folder)
    load_renderer(tiny_pretrained).save_pretrained(qa_folder)
    assert main(["explain", "--model", str(qa_folder), "--device", "cpu", "--output", str(tmp_path / "x.png"),
                 "Where?"]) == 1
    assert "not PIXELForQuestionAnswering (question answering scores answer spans" in capsys.readouterr().err
