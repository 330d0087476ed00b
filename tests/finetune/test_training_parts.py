"""Parts of fine-tuning: the training stream, early stopping with the best model kept, parsing heads among
rendered words only, a model that really learns an easy task."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from pixel.cli.main import main
from pixel.finetune.base import Feature, FeatureStream

from .conftest import TASK_DATA, finetune_command


def _features(n: int) -> list[Feature]:
    return [Feature({"pixel_values": np.full((16, 32), i, dtype=np.uint8), "num_text_patches": 1, "labels": i}, i)
            for i in range(n)]


def _ids(batch) -> list[int]:
    return batch["labels"].tolist()


def test_stream_epochs_resume_and_ranks():
    features = _features(5)
    stream = iter(FeatureStream(features, batch_size=2, seed=3))
    first = [_ids(next(stream)) for _ in range(5)]  # 10 positions = two epochs of 5
    flat = sum(first, [])
    assert sorted(flat[:5]) == [0, 1, 2, 3, 4] and sorted(flat[5:]) == [0, 1, 2, 3, 4]
    resumed = iter(FeatureStream(features, batch_size=2, seed=3, start_batch=3))
    assert [_ids(next(resumed)) for _ in range(2)] == first[3:5]
    # two ranks with batch 1 each see the two halves of the single-rank batch of 2
    rank0 = iter(FeatureStream(features, batch_size=1, seed=3, rank=0, world_size=2))
    rank1 = iter(FeatureStream(features, batch_size=1, seed=3, rank=1, world_size=2))
    assert [_ids(next(rank0)) + _ids(next(rank1)) for _ in range(5)] == first
    with pytest.raises(ValueError, match="no training features"):
        FeatureStream([], 2, 0)


def test_early_stopping_keeps_the_best_model(tiny_pretrained, tmp_path, capsys):
    """learning rate 0: the metric never improves after the first evaluation, so patience 1 stops at step 2
    of 10; the final folder holds the best (step 1) weights."""
    data = TASK_DATA / "tiny.conllu"
    out = tmp_path / "pos"
    assert main(finetune_command("pos", tiny_pretrained, data, out, data, "--max_steps", "10", "--eval_every",
                                 "1", "--early_stopping_patience", "1", "--learning_rate", "0")) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["steps"] == 2 and results["best"]["step"] == 1
    assert (out / "checkpoint-2").is_dir() and not (out / "checkpoint-4").exists()
    best = load_file(str(out / "best" / "model.safetensors"))
    final = load_file(str(out / "model.safetensors"))
    assert best.keys() == final.keys() and all(best[k].equal(final[k]) for k in best)
    logged = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in logged if "val_accuracy" in m] == [1, 2]


def test_parsing_heads_only_among_rendered_words():
    from types import SimpleNamespace

    from pixel.finetune.parsing import ParsingFamily

    length, relations = 6, 3
    arc = torch.zeros(1, length, length + 1)
    arc[0, :, 5] = 10.0  # a padding "word" (only 2 words rendered) scores best ...
    arc[0, :, 2] = 5.0  # ... word 2 next
    rel = torch.zeros(1, length, length + 1, relations)
    rel[0, :, 2, 1] = 1.0  # relation 1 at head 2
    rel[0, :, 0, 2] = 1.0  # relation 2 at head 0 (root)
    output = SimpleNamespace(arc_logits=arc, rel_logits=rel)
    feature = Feature({}, 0, {"rendered": 2, "num_words": 3})
    batch = {"arc_labels": torch.tensor([[0, 1, -100, -100, -100, -100]])}
    [result] = ParsingFamily({}).reduce(batch, output, [feature])
    assert result["heads"].tolist() == [2, 2] and result["relations"].tolist() == [1, 1]
    assert result["at_gold"].tolist() == [2, 0]


def test_classification_learns_ink_from_no_ink(tiny_pretrained, tmp_path, capsys):
    """Dark strings ("WWW...") against light ones ("...."): 30 steps are enough for a tiny model."""
    rows = ["sentence\tlabel"] + [f"{'W' * n}\tdark" for n in (6, 8, 10, 12)] + [
        f"{'.' * n}\tlight" for n in (6, 8, 10, 12)]
    train = tmp_path / "train.tsv"
    train.write_text("\n".join(rows) + "\n")
    out = tmp_path / "ink"
    assert main(finetune_command("classification", tiny_pretrained, train, out, train, "--max_steps", "30",
                                 "--eval_every", "10", "--batch_size", "8", "--learning_rate", "3e-3",
                                 "--dropout_prob", "0", "--early_stopping_patience", "0")) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["validation"]["accuracy"] == 1.0
    capsys.readouterr()
    assert main(["predict", "--model", str(out), "--device", "cpu", "WWWWWWWWW", "........."]) == 0
    labels = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert labels == ["dark", "light"]


def test_resume_continues_the_run(tiny_pretrained, tmp_path, capsys):
    data = TASK_DATA / "tiny_ner.txt"
    out = tmp_path / "ner"
    assert main(finetune_command("ner", tiny_pretrained, data, out, data, "--max_steps", "2")) == 0
    assert main(finetune_command("ner", tiny_pretrained, data, out, data, "--max_steps", "4", "--resume")) == 0
    logged = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in logged if "loss" in m] == [1, 2, 3, 4]
    assert json.loads((out / "results.json").read_text())["steps"] == 4


def test_unseen_validation_labels_are_reported(tiny_pretrained, tmp_path, capsys):
    """B-LOC/I-LOC only in validation: reported at the start, counted by evaluate, scored as misses."""
    train = tmp_path / "train.txt"
    train.write_text("EU B-ORG\nrejects O\n\nPeter B-PER\nBlackburn I-PER\n")
    validation = tmp_path / "dev.txt"
    validation.write_text("Peter B-PER\nin O\nNew B-LOC\nYork I-LOC\n")
    out = tmp_path / "ner"
    assert main(finetune_command("ner", tiny_pretrained, train, out, validation, "--max_steps", "2")) == 0
    assert "2 labels never seen in training (B-LOC x1, I-LOC x1)" in capsys.readouterr().out
    assert main(["evaluate", "--model", str(out), "--data", str(validation), "--device", "cpu"]) == 0
    printed = json.loads(capsys.readouterr().out.splitlines()[0])
    assert printed["unseen_labels"] == 2 and printed["recall"] <= 0.5  # the LOC entity cannot be found
