"""`pixel finetune --seeds`: one run per seed in seed-N, summary.json with mean and standard deviation, the best
seed's folder linked as best (best.txt where links fail)."""

from __future__ import annotations

import json
import math
import os

import pytest
import yaml

from pixel.cli.main import main
from pixel.finetune.config import ClassificationConfig
from pixel.finetune.seeds import SUMMARY, finetune_seeds, parse_seeds

from .conftest import TASK_DATA, finetune_command


def test_two_seeds_end_to_end(tiny_pretrained, tmp_path, capsys):
    data = TASK_DATA / "sst2.tsv"
    out = tmp_path / "runs"
    assert main(finetune_command("classification", tiny_pretrained, data, out, data, "--test", str(data),
                                 "--seeds", "1,2")) == 0
    printed = capsys.readouterr().out
    results = {seed: json.loads((out / f"seed-{seed}" / "results.json").read_text()) for seed in (1, 2)}
    for seed in (1, 2):
        saved = yaml.safe_load((out / f"seed-{seed}" / "finetune_config.yaml").read_text())
        assert saved["seed"] == seed and saved["output_dir"] == str(out / f"seed-{seed}")
        assert (out / f"seed-{seed}" / "model.safetensors").is_file()

    summary = json.loads((out / SUMMARY).read_text())
    assert summary["seeds"] == [1, 2] and summary["metric_for_best_model"] == "accuracy"
    for split in ("validation", "test"):
        assert set(summary["mean"][split]) == set(results[1][split])
        for name in results[1][split]:
            a, b = results[1][split][name], results[2][split][name]
            assert summary["runs"]["1"][split][name] == a and summary["runs"]["2"][split][name] == b
            assert summary["mean"][split][name] == pytest.approx((a + b) / 2)
            assert summary["std"][split][name] == pytest.approx(abs(a - b) / math.sqrt(2))
    accuracies = [results[seed]["validation"]["accuracy"] for seed in (1, 2)]
    best = 1 if accuracies[0] >= accuracies[1] else 2
    assert summary["best_seed"] == best and summary["best_folder"] == f"seed-{best}"
    assert (out / "best").is_symlink() and os.readlink(out / "best") == f"seed-{best}"
    assert (out / "best" / "config.json").is_file()

    mean = results[1]["validation"]["accuracy"] / 2 + results[2]["validation"]["accuracy"] / 2
    row = next(line for line in printed.splitlines() if line.startswith("| validation | accuracy"))
    assert [cell.strip() for cell in row.strip("|").split("|")][2] == f"{mean:.4g}"
    assert f"best seed {best} by validation accuracy (higher is better)" in printed


def fake_runs(scores: dict[int, float], calls: list):
    def run(config, resume):
        calls.append((config.seed, config.output_dir, resume))
        os.makedirs(config.output_dir, exist_ok=True)
        results = {"validation": {"loss": scores[config.seed], "accuracy": 0.5}}
        with open(os.path.join(config.output_dir, "results.json"), "w") as file:
            json.dump(results, file)
        return results
    return run


def small_config(out, **fields) -> ClassificationConfig:
    return ClassificationConfig(model="m", train="t", output_dir=str(out), **fields)


def test_lower_is_better_and_a_failed_link(tmp_path, monkeypatch, capsys):
    calls = []
    config = small_config(tmp_path, metric_for_best_model="loss")
    monkeypatch.setattr(os, "symlink", lambda *args, **kwargs: (_ for _ in ()).throw(OSError("not supported")))
    summary = finetune_seeds(config, [3, 4, 5], run=fake_runs({3: 0.7, 4: 0.2, 5: 0.2}, calls))
    assert [c[0] for c in calls] == [3, 4, 5] and summary.best_seed == 4  # first of the tied lowest losses
    assert (tmp_path / "best.txt").read_text() == "seed-4\n" and not (tmp_path / "best").exists()
    assert "could not link" in capsys.readouterr().out
    assert summary.std("validation", "accuracy") == 0.0
    assert json.loads((tmp_path / SUMMARY).read_text())["greater_is_better"] is False


def test_resume_keeps_finished_seeds_and_a_rerun_replaces_the_link(tmp_path):
    calls = []
    run = fake_runs({1: 0.3, 2: 0.4}, calls)
    finetune_seeds(small_config(tmp_path, metric_for_best_model="loss"), [1], run=run)
    assert os.readlink(tmp_path / "best") == "seed-1"
    summary = finetune_seeds(small_config(tmp_path, metric_for_best_model="accuracy"), [1, 2], resume=True, run=run)
    assert [c[0] for c in calls] == [1, 2]  # seed 1 was not run again
    assert summary.best_seed == 1 and os.readlink(tmp_path / "best") == "seed-1"
    assert summary.std("validation", "loss") == pytest.approx(math.sqrt(0.005))


def test_single_seed_has_no_std_and_no_validation_no_link(tmp_path):
    def run(config, resume):
        return {"test": {"accuracy": 0.25}}

    summary = finetune_seeds(small_config(tmp_path), [7], run=run)
    assert summary.std("test", "accuracy") is None and summary.best_seed is None
    assert not (tmp_path / "best").exists()
    saved = json.loads((tmp_path / SUMMARY).read_text())
    assert saved["std"] == {"test": {"accuracy": None}} and saved["mean"] == {"test": {"accuracy": 0.25}}


def test_bad_seeds_and_options(tiny_pretrained, tmp_path, capsys):
    for text, message in (("1,x", "comma-separated non-negative integers"), ("1,1", "a seed twice"),
                          ("", "comma-separated")):
        with pytest.raises(ValueError, match=message):
            parse_seeds(text)
    (tmp_path / "single" / "best").mkdir(parents=True)
    with pytest.raises(ValueError, match="is a folder of a single fine-tuning run"):
        finetune_seeds(small_config(tmp_path / "single"), [1], run=lambda config, resume: {})
    data = str(TASK_DATA / "sst2.tsv")
    base = finetune_command("classification", tiny_pretrained, data, tmp_path / "x")
    assert main([*base, "--seeds", "1,2", "--seed", "3"]) == 1
    assert "not both" in capsys.readouterr().err
    assert main([*base, "--seeds", "1,2", "--resume", str(tmp_path)]) == 1
    assert "give --resume without a checkpoint" in capsys.readouterr().err
    assert main([*base, "--seeds", "one"]) == 1
    assert "--seeds must be comma-separated" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
