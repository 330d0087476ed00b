"""Fine-tuning settings: one dataclass per task family whose defaults are the original's recipe (spec 3.2,
3.3; the same values as configs/finetune/<task>.yaml). Every field is a ``--key value`` option of
``pixel finetune``; an unknown key is an error naming the closest keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pixel.data.tasks.hub import HubSplit
from pixel.render.structured import check_rendering_options
from pixel.train.trainer import TrainerConfig

TASKS = ("classification", "pos", "ner", "parsing", "qa")


@dataclass
class FinetuneConfig(TrainerConfig):
    """Shared keys. model: a model folder or Hub id (pretrained or fine-tuned); renderer: a renderer folder, or
    a backend name for a fresh renderer where the model has none (None = the model folder's); rendering /
    bigram_unit: how to draw (None = the renderer folder's; with the model's own folder they must agree with
    it, see pixel.render.choose); train/validation/test: data files, or instead dataset (+ dataset_config):
    a Hugging Face ``datasets`` name whose train/validation/test_split are read (optional package)."""

    task: str = ""
    model: str = ""
    renderer: str | None = None
    rendering: str | None = None
    bigram_unit: str | None = None
    train: str = ""
    validation: str | None = None
    test: str | None = None
    dataset: str | None = None
    dataset_config: str | None = None
    train_split: str = "train"
    validation_split: str | None = "validation"
    test_split: str | None = None
    max_seq_length: int = 256
    dropout_prob: float = 0.1
    eval_batch_size: int = 32
    # the original's Hugging Face trainer defaults and shared recipe (spec 3.2)
    learning_rate: float = 5e-5
    min_lr: float = 0.0
    lr_schedule: str = "linear"
    batch_size: int = 64
    max_steps: int = 15000
    warmup_steps: int = 100
    weight_decay: float = 0.0
    adam_betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    adam_eps: float = 1e-8
    max_grad_norm: float = 1.0
    log_every: int = 100
    eval_every: int = 500
    save_every: int = 500
    keep_last: int = 5
    early_stopping_patience: int = 5
    metric_for_best_model: str | None = "accuracy"
    tensorboard: bool = False

    def validate(self) -> None:
        super().validate()
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {', '.join(TASKS)}, got {self.task!r}")
        if not self.model:
            raise ValueError("no model: pass --model DIR_OR_HUB_ID (a pretrained PIXEL folder or Hub id)")
        if self.dataset and (self.train or self.validation or self.test):
            raise ValueError("give either --dataset NAME (with --train_split/--validation_split/--test_split) "
                             "or data files (--train/--validation/--test), not both")
        if not self.train and not self.dataset:
            raise ValueError("no training data: pass --train FILE (or --dataset NAME)")
        if self.dataset and not self.train_split:
            raise ValueError("--dataset needs --train_split (e.g. train)")
        if self.max_seq_length < 2:
            raise ValueError(f"max_seq_length must be >= 2 patches, got {self.max_seq_length}")
        if not 0.0 <= self.dropout_prob < 1.0:
            raise ValueError(f"dropout_prob must be in [0, 1), got {self.dropout_prob}")
        if self.early_stopping_patience and self.data_source("validation") is None:
            raise ValueError("early stopping needs validation data: pass --validation FILE (or "
                             "--validation_split with --dataset), or --early_stopping_patience 0")
        if self.eval_batch_size < 1:
            raise ValueError(f"eval_batch_size must be >= 1, got {self.eval_batch_size}")
        check_rendering_options(self.rendering, self.bigram_unit)

    def task_settings(self) -> dict:
        """Settings that prediction needs, stored in the fine-tuned model's config.json."""
        return {}

    def hub_columns(self) -> dict[str, str | None]:
        """Column names for reading a ``--dataset`` (token tasks; classification uses its task settings)."""
        return {}

    def data_source(self, part: str) -> str | HubSplit | None:
        """Where the ``part`` ("train", "validation" or "test") data come from: a file path, a dataset split,
        or None when there is none."""
        if self.dataset:
            split = getattr(self, f"{part}_split")
            return HubSplit(self.dataset, split, self.dataset_config, self.hub_columns()) if split else None
        return getattr(self, part) or None


@dataclass
class ClassificationConfig(FinetuneConfig):
    """run_glue.py: L 256, batch 64 x 4, lr 3e-5, mean pooling with layer norm, glue_strip_spaces."""

    task: str = "classification"
    pooling_mode: str = "mean"
    pooler_add_layer_norm: bool = True
    glue_strip_spaces: bool = True
    text_column: str = "sentence"
    pair_column: str | None = None
    label_column: str = "label"
    regression: bool = False
    learning_rate: float = 3e-5
    grad_accum_steps: int = 4

    def validate(self) -> None:
        super().validate()
        from pixel.model.pooling import parse_pooling_mode

        parse_pooling_mode(self.pooling_mode)
        if self.regression and self.metric_for_best_model in ("accuracy", "f1", "matthews_correlation"):
            raise ValueError(f"metric_for_best_model {self.metric_for_best_model!r} is a classification metric; "
                             "for regression use pearson or spearmanr")

    def task_settings(self) -> dict:
        return {"glue_strip_spaces": self.glue_strip_spaces, "text_column": self.text_column,
                "pair_column": self.pair_column, "label_column": self.label_column, "regression": self.regression}


@dataclass
class PosConfig(FinetuneConfig):
    """run_pos.py: L 256, batch 64, lr 5e-5, token accuracy."""

    task: str = "pos"
    tokens_column: str = "tokens"
    tags_column: str = "upos"
    head_column: str | None = "head"

    def hub_columns(self) -> dict[str, str | None]:
        return {"tokens_column": self.tokens_column, "tags_column": self.tags_column,
                "head_column": self.head_column}


@dataclass
class NerConfig(FinetuneConfig):
    """run_ner.py: L 196, batch 64, lr 5e-5, entity F1."""

    task: str = "ner"
    max_seq_length: int = 196
    metric_for_best_model: str | None = "f1"
    tokens_column: str = "tokens"
    tags_column: str = "ner_tags"

    def hub_columns(self) -> dict[str, str | None]:
        return {"tokens_column": self.tokens_column, "tags_column": self.tags_column}


@dataclass
class ParsingConfig(FinetuneConfig):
    """run_ud.py: L 256, batch 64, lr 8e-5, LAS."""

    task: str = "parsing"
    learning_rate: float = 8e-5
    metric_for_best_model: str | None = "las"
    tokens_column: str = "tokens"
    head_column: str = "head"
    deprel_column: str = "deprel"

    def hub_columns(self) -> dict[str, str | None]:
        return {"tokens_column": self.tokens_column, "head_column": self.head_column,
                "deprel_column": self.deprel_column}


@dataclass
class QAConfig(FinetuneConfig):
    """run_qa.py (TyDiQA-GoldP example): L 400, doc_stride 160, question_max_length 128, batch 32, lr 7e-5,
    20k steps; n_best 20, max_answer_length 30 patches; F1."""

    task: str = "qa"
    max_seq_length: int = 400
    doc_stride: int = 160
    question_max_length: int = 128
    n_best_size: int = 20
    max_answer_length: int = 30
    version_2_with_negative: bool = False
    null_score_diff_threshold: float = 0.0
    rtl: bool = False
    learning_rate: float = 7e-5
    batch_size: int = 32
    max_steps: int = 20000
    metric_for_best_model: str | None = "f1"

    def validate(self) -> None:
        super().validate()
        if self.doc_stride < 0 or self.question_max_length < 1:
            raise ValueError("doc_stride must be >= 0 and question_max_length >= 1 (patches)")
        if self.n_best_size < 1 or self.max_answer_length < 1:
            raise ValueError("n_best_size and max_answer_length must be >= 1")

    def task_settings(self) -> dict:
        return {"doc_stride": self.doc_stride, "question_max_length": self.question_max_length,
                "n_best_size": self.n_best_size, "max_answer_length": self.max_answer_length,
                "version_2_with_negative": self.version_2_with_negative,
                "null_score_diff_threshold": self.null_score_diff_threshold, "rtl": self.rtl}


CONFIG_CLASSES: dict[str, type[FinetuneConfig]] = {
    "classification": ClassificationConfig, "pos": PosConfig, "ner": NerConfig, "parsing": ParsingConfig,
    "qa": QAConfig,
}
