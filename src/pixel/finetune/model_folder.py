"""Task families by name, the model to fine-tune, and fine-tuned folders (ours and the original's).

A fine-tuned folder holds config.json (with id2label, ``pixel_task``, ``task_settings``, pooling mode and
image size = max_seq_length), model.safetensors, the renderer (text_renderer_config.json + font) and
finetune_config.yaml, so evaluation and prediction need no other setting. The original's Team-PIXEL
fine-tuned checkpoints carry no task name: it comes from ``architectures`` (token classification is NER when
every label is O/B-x/I-x, else POS); their pooling mode is given by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from pixel.data.tasks.labels import LabelVocabulary
from pixel.finetune.base import Family

ARCHITECTURE_TASKS = {
    "PIXELForSequenceClassification": "classification",
    "PIXELForTokenClassification": "pos",
    "PIXELForBiaffineParsing": "parsing",
    "PIXELForQuestionAnswering": "qa",
}


def make_family(task: str, settings: dict[str, Any] | None = None) -> Family:
    from pixel.finetune.classification import ClassificationFamily
    from pixel.finetune.parsing import ParsingFamily
    from pixel.finetune.qa import QAFamily
    from pixel.finetune.tagging import NerFamily, PosFamily

    families = {"classification": ClassificationFamily, "pos": PosFamily, "ner": NerFamily,
                "parsing": ParsingFamily, "qa": QAFamily}
    if task not in families:
        raise ValueError(f"unknown task {task!r}; choose one of {', '.join(families)}")
    return families[task](dict(settings or {}))


def model_class(family: Family) -> type[nn.Module]:
    from pixel.model import heads

    return getattr(heads, family.model_class_name)


def load_task_renderer(renderer: str | None, model: str, max_seq_length: int, rendering: str | None = None,
                       bigram_unit: str | None = None):
    """The renderer of a fine-tuning run or model, set to ``max_seq_length`` patches, by the rule of
    :mod:`pixel.render.choose`: the folder ``renderer`` names, else ``model``'s renderer folder (a fresh one
    only when ``renderer`` is a backend name); ``rendering`` / ``bigram_unit`` must agree with the model's."""
    from pixel.render.choose import choose_renderer

    chosen, _ = choose_renderer(renderer, model, rendering, bigram_unit, fresh=False, max_seq_length=max_seq_length)
    return chosen


def build_model(config: Any, family: Family, vocabulary: LabelVocabulary | None) -> nn.Module:
    """The family's head on the encoder of ``config.model`` (a pretrained or fine-tuned folder / Hub id),
    position embeddings cut/stretched to max_seq_length, dropout set, new weights seeded by ``seed``."""
    kwargs: dict[str, Any] = {"max_seq_length": config.max_seq_length,
                              "hidden_dropout_prob": config.dropout_prob,
                              "attention_probs_dropout_prob": config.dropout_prob}
    if vocabulary is not None:
        kwargs["id2label"] = dict(enumerate(vocabulary.labels))
        kwargs["label2id"] = {label: i for i, label in enumerate(vocabulary.labels)}
    elif family.name == "classification":
        kwargs["id2label"], kwargs["label2id"] = {0: "score"}, {"score": 0}
    else:
        kwargs["id2label"], kwargs["label2id"] = {0: "start", 1: "end"}, {"start": 0, "end": 1}
    if family.name == "classification":
        kwargs["pooling_mode"] = config.pooling_mode
        kwargs["add_layer_norm"] = config.pooler_add_layer_norm
        kwargs["problem_type"] = "regression" if vocabulary is None else "single_label_classification"
    torch.manual_seed(config.seed)
    model = model_class(family).from_pretrained(config.model, **kwargs)
    model.config.pixel_task = family.name
    model.config.task_settings = family.settings
    return model.train()


@dataclass
class FinetunedModel:
    family: Family
    model: nn.Module
    renderer: Any
    vocabulary: LabelVocabulary | None


def load_finetuned(path: str, task: str | None = None, pooling_mode: str | None = None,
                   renderer: str | None = None, device: str | torch.device = "cpu") -> FinetunedModel:
    """A fine-tuned folder or Hub repo, ready for evaluation/prediction (eval mode, on ``device``)."""
    from pixel.model.config import PIXELConfig

    config = PIXELConfig.from_pretrained(path)
    labels = [config.id2label[i] for i in sorted(config.id2label)] if config.id2label else []
    if task is None:
        task = getattr(config, "pixel_task", None)
    if task is None:
        architecture = (config.architectures or [None])[0]
        if architecture not in ARCHITECTURE_TASKS:
            raise ValueError(f"{path}: config.json names no fine-tuned task (architectures {config.architectures});"
                             " pass --task, or fine-tune the model first with pixel finetune")
        task = ARCHITECTURE_TASKS[architecture]
        if task == "pos" and labels and all(label == "O" or label[:2] in ("B-", "I-") for label in labels):
            task = "ner"
    settings = dict(getattr(config, "task_settings", None) or {})
    if task == "classification" and config.num_labels == 1:
        settings["regression"] = True
    family = make_family(task, settings)
    kwargs: dict[str, Any] = {}
    if pooling_mode is not None:
        if task != "classification":
            raise ValueError("--pooling_mode applies to classification models only")
        kwargs["pooling_mode"] = pooling_mode
    model = model_class(family).from_pretrained(path, **kwargs).to(device).eval()
    vocabulary = None
    if task in ("pos", "ner", "parsing") or (task == "classification" and not settings.get("regression")):
        vocabulary = LabelVocabulary(labels)
    text_renderer = load_task_renderer(renderer, path, model.config.num_patches)
    return FinetunedModel(family, model, text_renderer, vocabulary)


def default_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)
