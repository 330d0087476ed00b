"""Pretraining settings: one dataclass whose fields are the keys of configs/pretrain/*.yaml and the
``--key value`` options of ``pixel pretrain``; an unknown key is an error naming the closest keys."""

from __future__ import annotations

from dataclasses import dataclass, field

from pixel.model.config import VARIANTS
from pixel.model.masking import PIXEL_BASE_CUMULATIVE_SPAN_WEIGHTS
from pixel.render.structured import check_rendering_options
from pixel.train.trainer import TrainerConfig


@dataclass
class PretrainConfig(TrainerConfig):
    """Everything a pretraining run needs; each field is a config-file key and a ``--key value`` option.

    Data: train_files / validation_files (paths or globs of .txt, .jsonl, .parquet), or hf_dataset (optional
    ``datasets`` package; validation then comes from hf_validation_split). Renderer (pixel.render.choose): a
    renderer folder, else the init_from model's renderer folder, else a fresh one of the backend ``renderer``
    names ("pangocairo", "pygame"; font_file optional); rendering / bigram_unit: how a fresh renderer draws
    (continuous, bigrams, words, mono), replacing a named folder's; they must agree with init_from's renderer.
    Model: the size ``model_variant`` (a name of pixel.model.config.VARIANTS: "base" = pixel-base, "small" =
    pixel-small-*, "lotz-tiny" = pixel-tiny-* of Lotz et al., "tiny" = the test size) with the PIXELConfig
    fields of ``model`` on top (hidden_size, dropout...); image size follows max_seq_length. init_from: a
    model folder or Hub id to continue pretraining from (every weight is kept, the renderer too unless
    ``renderer`` is a folder).
    """

    train_files: list[str] = field(default_factory=list)
    validation_files: list[str] = field(default_factory=list)
    text_field: str = "text"
    hf_dataset: str | None = None
    hf_config: str | None = None
    hf_split: str = "train"
    hf_validation_split: str | None = None
    on_bad_input: str = "skip"
    min_patches: int = 22
    validation_examples: int = 64
    renderer: str = "pangocairo"
    rendering: str | None = None
    bigram_unit: str | None = None
    font_file: str | None = None
    max_seq_length: int = 529
    mask_ratio: float = 0.25
    max_span_length: int = 6
    cumulative_span_weights: list[float] = field(default_factory=lambda: list(PIXEL_BASE_CUMULATIVE_SPAN_WEIGHTS))
    model_variant: str = "base"
    model: dict = field(default_factory=dict)
    init_from: str | None = None
    picture_text: str | None = None

    def validate(self) -> None:
        super().validate()
        if not self.train_files and not self.hf_dataset:
            raise ValueError("no training text: set train_files (e.g. --train_files corpus.txt) or hf_dataset")
        if self.on_bad_input not in ("skip", "error"):
            raise ValueError(f"on_bad_input must be skip or error, got {self.on_bad_input!r}")
        if not 0.0 < self.mask_ratio < 1.0:
            raise ValueError(f"mask_ratio must be between 0 and 1, got {self.mask_ratio}")
        check_rendering_options(self.rendering, self.bigram_unit)
        if self.model_variant not in VARIANTS:
            raise ValueError(f"model_variant must be one of {', '.join(VARIANTS)}, got {self.model_variant!r}")
