"""Fine-tuning settings: the recipe files and the config classes agree; overrides and their errors."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from pixel.finetune.config import CONFIG_CLASSES
from pixel.train.config import load_config

from .conftest import CONFIGS


@pytest.mark.parametrize("task", sorted(CONFIG_CLASSES))
def test_recipe_file_equals_the_defaults(task):
    """configs/finetune/<task>.yaml documents the defaults: loading it changes nothing."""
    cls = CONFIG_CLASSES[task]
    recipe = yaml.safe_load((CONFIGS / f"{task}.yaml").read_text())
    defaults = dataclasses.asdict(cls())
    assert {key: defaults[key] for key in recipe} == recipe
    assert load_config(cls, CONFIGS / f"{task}.yaml") == cls()


def test_shared_recipe_of_the_original():
    """spec 3.2: linear schedule, no weight decay, warm-up 100, eval/save every 500, keep 5, patience 5."""
    for cls in CONFIG_CLASSES.values():
        config = cls()
        assert (config.lr_schedule, config.weight_decay, config.warmup_steps, config.eval_every,
                config.save_every, config.keep_last, config.early_stopping_patience, config.dropout_prob) == (
            "linear", 0.0, 100, 500, 500, 5, 5, 0.1)


def test_overrides_and_errors():
    cls = CONFIG_CLASSES["qa"]
    config = load_config(cls, None, [("doc_stride", "64"), ("model", "m"), ("train", "t.json")])
    assert config.doc_stride == 64 and config.max_seq_length == 400
    with pytest.raises(ValueError, match="did you mean doc_stride"):
        load_config(cls, None, [("doc_strid", "64")])
    with pytest.raises(ValueError, match="validation"):
        load_config(cls, None, [("model", "m"), ("train", "t.json")]).validate()
    with pytest.raises(ValueError, match="--model"):
        load_config(cls, None, [("train", "t.json")]).validate()
    with pytest.raises(ValueError, match="pooling_mode"):
        load_config(CONFIG_CLASSES["classification"], None,
                    [("model", "m"), ("train", "t"), ("pooling_mode", "avg"), ("validation", "v")]).validate()


def test_exponent_without_dot_is_a_number():
    """YAML 1.1 reads 3e-5 as a string; --learning_rate 3e-5 must still work (and in a config file too)."""
    config = load_config(CONFIG_CLASSES["pos"], None, [("learning_rate", "3e-5")])
    assert config.learning_rate == 3e-5
    with pytest.raises(ValueError, match="expected a number"):
        load_config(CONFIG_CLASSES["pos"], None, [("learning_rate", "fast")])
