"""Fine-tuning recipes: the original's hyper-parameters (spec 3.3); the smoke overlay shrinks any recipe."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from pixel.finetune.config import CONFIG_CLASSES
from pixel.pretrain.config import PretrainConfig
from pixel.train.config import SMOKE, load_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "finetune"

# (max_seq_length, batch_size x accumulation, learning_rate, max_steps) from the original's FINETUNING.md
RECIPES = {
    "classification": (256, 64 * 4, 3e-5, 15000),
    "pos": (256, 64, 5e-5, 15000),
    "ner": (196, 64, 5e-5, 15000),
    "parsing": (256, 64, 8e-5, 15000),
    "qa": (400, 32, 7e-5, 20000),
}


@pytest.mark.parametrize("task", sorted(RECIPES))
def test_recipe_matches_the_original(task):
    config = yaml.safe_load((CONFIGS / f"{task}.yaml").read_text())
    length, batch, learning_rate, steps = RECIPES[task]
    assert config["task"] == task
    assert config["max_seq_length"] == length
    assert config["batch_size"] * config["grad_accum_steps"] == batch
    assert config["learning_rate"] == pytest.approx(learning_rate)
    assert config["max_steps"] == steps
    assert (config["warmup_steps"], config["dropout_prob"], config["early_stopping_patience"]) == (
        100,
        0.1,
        5,
    )


@pytest.mark.parametrize("task", sorted(RECIPES))
def test_smoke_overlay_keeps_the_keys_and_makes_the_recipe_tiny(task):
    full = dataclasses.asdict(load_config(CONFIG_CLASSES[task], CONFIGS / f"{task}.yaml"))
    smoke = dataclasses.asdict(load_config(CONFIG_CLASSES[task], CONFIGS / f"{task}.yaml", smoke=True))
    assert smoke.keys() == full.keys()
    assert smoke["max_steps"] <= 10 and smoke["batch_size"] <= 4 and smoke["max_seq_length"] <= 64


def test_every_key_of_the_smoke_overlay_belongs_to_some_recipe():
    keys = {f.name for cls in (PretrainConfig, *CONFIG_CLASSES.values()) for f in dataclasses.fields(cls)}
    assert set(SMOKE) <= keys


def test_qa_and_classification_specifics():
    qa = yaml.safe_load((CONFIGS / "qa.yaml").read_text())
    assert (qa["doc_stride"], qa["question_max_length"], qa["n_best_size"], qa["max_answer_length"]) == (
        160,
        128,
        20,
        30,
    )
    classification = yaml.safe_load((CONFIGS / "classification.yaml").read_text())
    assert classification["pooling_mode"] == "mean" and classification["glue_strip_spaces"] is True
