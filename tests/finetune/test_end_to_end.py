"""finetune -> evaluate -> predict for every task family with a tiny model, on the fixtures of tests/data/tasks.

The fine-tuned folder must reload with no flag: `pixel evaluate` in a fresh load gives exactly the metrics
that `pixel finetune` computed with the model it had in memory.
"""

from __future__ import annotations

import json

import pytest

from pixel.cli.main import main
from pixel.train.config import SMOKE

from .conftest import TASK_DATA, finetune_command

CASES = {
    # name: (task, data file, extra finetune args, predict args, metric keys)
    "pos": ("pos", "tiny.conllu", [], ["The cat sleeps .", "Ducks swim"], {"accuracy"}),
    "ner": ("ner", "tiny_ner.txt", [], ["John lives in New York"], {"precision", "recall", "f1", "accuracy"}),
    "parsing": ("parsing", "tiny.conllu", [], ["The cat sleeps ."], {"uas", "las"}),
    "classification": ("classification", "sst2.tsv", [], ["a charming journey", "bleak"],
                       {"accuracy", "f1", "f1_macro", "matthews_correlation"}),
    "pair-regression": ("classification", "stsb.jsonl",
                        ["--text_column", "sentence1", "--pair_column", "sentence2", "--label_column", "score",
                         "--regression", "true", "--metric_for_best_model", "pearson", "--pooling_mode", "pma2"],
                        ["A man plays.", "--pair", "A man is playing."], {"pearson", "spearmanr", "mse"}),
    "qa": ("qa", "tiny_squad_v1.json", [],
           ["--question", "What is the capital of France?", "--context", "Paris is the capital of France."],
           {"exact_match", "f1"}),
}


def _last_json(text: str) -> dict:
    return json.loads([line for line in text.splitlines() if line.startswith("{")][-1])


@pytest.mark.parametrize("case", sorted(CASES))
def test_finetune_evaluate_predict(case, tiny_pretrained, tmp_path, capsys):
    task, name, extra, predict_args, keys = CASES[case]
    data = TASK_DATA / name
    out = tmp_path / "model"
    assert main(finetune_command(task, tiny_pretrained, data, out, data, "--test", str(data), *extra)) == 0
    capsys.readouterr()

    for file in ("config.json", "model.safetensors", "text_renderer_config.json", "NotoSans-Regular.ttf",
                 "finetune_config.yaml", "results.json", "predictions_validation.jsonl", "predictions_test.jsonl"):
        assert (out / file).is_file(), file
    assert (out / "best" / "model.safetensors").is_file() and (out / "checkpoint-4").is_dir()
    length = SMOKE["max_seq_length"]
    config = json.loads((out / "config.json").read_text())
    assert config["pixel_task"] == task and config["image_size"] == [16, 16 * length]
    results = json.loads((out / "results.json").read_text())
    assert keys <= set(results["validation"]) and results["best"]["step"] in (2, 4)
    assert json.loads((out / "text_renderer_config.json").read_text())["max_seq_length"] == length

    # a fresh load of the folder, no flags: the same metrics as the in-memory model after training
    assert main(["evaluate", "--model", str(out), "--data", str(data), "--device", "cpu",
                 "--precision", "fp32"]) == 0
    printed = _last_json(capsys.readouterr().out)
    for key in keys:
        assert printed[key] == pytest.approx(results["validation"][key], abs=1e-6), key
    lines = (out / f"predictions_{data.stem}.jsonl").read_text().splitlines()
    assert lines == (out / "predictions_validation.jsonl").read_text().splitlines()

    assert main(["predict", "--model", str(out), "--device", "cpu", *predict_args]) == 0
    text = capsys.readouterr().out.strip()
    assert main(["predict", "--model", str(out), "--device", "cpu", "--json", *predict_args]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    _check_prediction(task, case, text, records, config)


def _check_prediction(task: str, case: str, text: str, records: list[dict], config: dict) -> None:
    labels = set(config["id2label"].values())
    if task in ("pos", "ner"):
        assert len(records) == 2 if task == "pos" else len(records) == 1
        first = records[0]
        assert len(first["labels"]) == len(first["words"]) and set(first["labels"]) <= labels
        assert all(0 < p <= 1 for p in first["probabilities"])
        assert text.splitlines()[0].split() == [f"{w}/{t}" for w, t in zip(first["words"], first["labels"], strict=True)]
    elif task == "parsing":
        rows = [line.split("\t") for line in text.splitlines()]
        assert [r[1] for r in rows] == ["The", "cat", "sleeps", "."] and all(len(r) == 10 for r in rows)
        assert all(0 <= int(r[6]) <= 4 for r in rows) and {r[7] for r in rows} <= labels
        assert [int(r[6]) for r in rows] == records[0]["heads"]
    elif case == "classification":
        assert [r["label"] in labels for r in records] == [True, True]
        assert all(sum(r["probabilities"].values()) == pytest.approx(1.0) for r in records)
        assert text.splitlines()[0].startswith(f"{records[0]['label']} (")
    elif case == "pair-regression":
        assert records[0]["pair"] == "A man is playing." and isinstance(records[0]["score"], float)
    else:  # qa: the answer is a piece of the context
        assert records[0]["answer"] in "Paris is the capital of France." and 0 <= records[0]["probability"] <= 1
        assert text.startswith("What is the capital of France?\t")
