"""`pixel evaluate --attack`: a fine-tuned tiny model scored on attacked copies made on the fly, and the
robustness report (table, JSON, PNG)."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from pixel.cli.main import main

from .conftest import TASK_DATA


def _last_json(text: str) -> dict:
    return json.loads([line for line in text.splitlines() if line.startswith("{")][-1])


def test_one_attack_at_severity_zero_scores_as_the_clean_file(pos_model, capsys):
    data = str(TASK_DATA / "tiny.conllu")
    assert main(["evaluate", "--model", str(pos_model), "--data", data, "--device", "cpu"]) == 0
    clean = _last_json(capsys.readouterr().out)
    assert main(["evaluate", "--model", str(pos_model), "--data", data, "--device", "cpu",
                 "--attack", "confusable", "--severity", "0"]) == 0
    attacked = _last_json(capsys.readouterr().out)
    assert attacked["attack"] == "confusable" and attacked["severity"] == 0
    assert attacked["accuracy"] == clean["accuracy"] and attacked["loss"] == pytest.approx(clean["loss"])


def test_one_attack_predicts_on_the_attacked_words(pos_model, capsys):
    data = str(TASK_DATA / "tiny.conllu")
    assert main(["evaluate", "--model", str(pos_model), "--data", data, "--device", "cpu",
                 "--attack", "confusable", "--severity", "1"]) == 0
    printed = capsys.readouterr().out
    assert "confusable at 100% (seed 42)" in printed and "8 words changed (8 words)" in printed
    assert 0 <= _last_json(printed)["accuracy"] <= 1
    records = [json.loads(line) for line in (pos_model / "predictions_tiny_confusable100.jsonl").read_text().splitlines()]
    clean = [["The", "cat", "sleeps", "."], ["Do", "n't", "go", "."], ["Ducks", "swim"]]
    assert [len(r["words"]) for r in records] == [4, 4, 2]
    pairs = [(w, c) for r, words in zip(records, clean, strict=True) for w, c in zip(r["words"], words, strict=True)]
    assert all((w == c) == (c == ".") for w, c in pairs)  # every word but the full stops was attacked


def test_robustness_report(pos_model, tmp_path, capsys):
    chart = tmp_path / "robustness.png"
    assert main(["evaluate", "--model", str(pos_model), "--data", str(TASK_DATA / "tiny.conllu"), "--device", "cpu",
                 "--attack", "truncate,segmentation", "--severity", "0,100", "--report", str(chart)]) == 0
    printed = capsys.readouterr().out
    report = json.loads(chart.with_suffix(".json").read_text())
    assert report["task"] == "pos" and report["metric"] == "accuracy" and report["seed"] == 42
    assert set(report["attacked"]) == {"truncate", "segmentation"}
    for attack in ("truncate", "segmentation"):
        assert set(report["attacked"][attack]) == {"0", "1"}
        assert report["attacked"][attack]["0"]["accuracy"] == report["clean"]["accuracy"]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in printed.splitlines()
            if line.startswith("|")]
    clean = f"{report['clean']['accuracy']:.4g}"
    assert rows[0] == ["attack", "clean", "0%", "100%"] and [r[0] for r in rows[2:]] == ["truncate", "segmentation"]
    assert all(r[1] == clean == r[2] for r in rows[2:])
    assert rows[2][3] == f"{report['attacked']['truncate']['1']['accuracy']:.4g}"
    with Image.open(chart) as image:
        assert image.format == "PNG" and image.size[0] > 200 and image.size[1] > 200


def test_bad_attack_requests(pos_model, capsys):
    base = ["evaluate", "--model", str(pos_model), "--data", str(TASK_DATA / "tiny.conllu"), "--device", "cpu"]
    with pytest.raises(SystemExit):
        main([*base, "--attack", "typo"])
    assert "unknown attack 'typo'; known attacks: phonetic" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*base, "--attack", "truncate", "--severity", "2000"])
    assert "outside [0, 1] (or 0-100 as a percentage)" in capsys.readouterr().err
    assert main([*base, "--attack", "all", "--report", "chart.jpg"]) == 1
    assert "must end in .png" in capsys.readouterr().err
