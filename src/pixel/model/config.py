"""`PIXELConfig`: the model settings, read from and written to `config.json` as the original checkpoints have it.

Defaults are those of pixel-base (the original `PIXELConfig` constructor). Configs of the original's fine-tuned
checkpoints (`model_type` "vit") and of "vit_mae" load too: their fields have the same names. Keys this class
does not know are kept as attributes and written back (heads store settings such as `pooling_mode` this way),
except credentials, which are never stored.
"""

from __future__ import annotations

import difflib
import inspect
import json
import logging
import os
from typing import Any

from pixel.io import write_text
from pixel.resolve import resolve_file

logger = logging.getLogger(__name__)

CONFIG_NAME = "config.json"
# The label id that the heads' losses ignore (padding, the other patches of a word, labels training never
# saw); the task data builds its targets with it.
IGNORE_INDEX = -100
ACCEPTED_MODEL_TYPES = ("pixel", "vit_mae", "vit")

# Keys that must never end up in a saved config (the original put push-to-hub tokens in config files).
CREDENTIAL_KEYS = frozenset(
    {"token", "use_auth_token", "hub_token", "push_to_hub_token", "auth_token", "api_key", "access_token"}
)
# Bookkeeping of the transformers library that means nothing here.
IGNORED_KEYS = frozenset({"transformers_version", "_name_or_path", "_commit_hash", "model_type"})
# Keys that configs of heads (ours and the original's) and of transformers' PretrainedConfig carry besides the
# fields: kept and saved back without a warning. Any other key of a config.json is warned about once.
KNOWN_EXTRA_KEYS = frozenset({
    "architectures", "id2label", "label2id", "num_labels", "_num_labels", "pooling_mode", "add_layer_norm",
    "add_pooling_layer", "pixel_task", "task_settings", "problem_type", "pad_token_id", "interpolate_pos_encoding",
    "finetuning_task", "torch_dtype", "encoder_stride", "return_dict", "output_hidden_states", "output_attentions",
    "torchscript", "use_bfloat16", "tf_legacy_loss", "pruned_heads", "tie_word_embeddings", "chunk_size_feed_forward",
    "is_encoder_decoder", "is_decoder", "cross_attention_hidden_size", "add_cross_attention", "tie_encoder_decoder",
    "max_length", "min_length", "do_sample", "early_stopping", "num_beams", "num_beam_groups", "diversity_penalty",
    "temperature", "top_k", "top_p", "typical_p", "repetition_penalty", "length_penalty", "no_repeat_ngram_size",
    "encoder_no_repeat_ngram_size", "bad_words_ids", "num_return_sequences", "output_scores",
    "return_dict_in_generate", "forced_bos_token_id", "forced_eos_token_id", "remove_invalid_values",
    "exponential_decay_length_penalty", "suppress_tokens", "begin_suppress_tokens", "tokenizer_class", "prefix",
    "bos_token_id", "eos_token_id", "sep_token_id", "decoder_start_token_id", "task_specific_params",
})
_warned_unknown: set[tuple[str, ...]] = set()

# Named model sizes: `PIXELConfig.variant(name, **overrides)`, ``model_variant`` of a pretraining run.
VARIANTS: dict[str, dict[str, int]] = {
    # pixel-base (the PIXELConfig defaults): 86M encoder + 26M decoder parameters
    "base": {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072,
             "decoder_hidden_size": 512, "decoder_num_hidden_layers": 8, "decoder_num_attention_heads": 16,
             "decoder_intermediate_size": 2048},
    # Team-PIXEL/pixel-small-{continuous,bigrams,mono,words} (Lotz et al. 2023; their Hub config.json):
    # 21.8M encoder + 3.8M decoder parameters
    "small": {"hidden_size": 384, "num_hidden_layers": 12, "num_attention_heads": 6, "intermediate_size": 1536,
              "decoder_hidden_size": 264, "decoder_num_hidden_layers": 4, "decoder_num_attention_heads": 6,
              "decoder_intermediate_size": 1056},
    # Team-PIXEL/pixel-tiny-{continuous,bigrams,mono,words} (Lotz et al. 2023; the Hub config.json of
    # pixel-tiny-continuous): 5.6M encoder + 0.8M decoder parameters. Not "tiny", which is the test size below.
    "lotz-tiny": {"hidden_size": 192, "num_hidden_layers": 12, "num_attention_heads": 4, "intermediate_size": 768,
                  "decoder_hidden_size": 144, "decoder_num_hidden_layers": 2, "decoder_num_attention_heads": 4,
                  "decoder_intermediate_size": 768},
    # the size of the original code's tiny test checkpoint (tests/data/golden/model/tiny-pixel): tests,
    # benchmarks and --smoke runs
    "tiny": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64,
             "decoder_hidden_size": 16, "decoder_num_hidden_layers": 2, "decoder_num_attention_heads": 4,
             "decoder_intermediate_size": 64},
}


class PIXELConfig:
    """Settings of a PIXEL model (pixel-base defaults).

    Known fields are plain attributes. Any other JSON value set as an attribute (``config.pooling_mode = "mean"``)
    is saved in `config.json` and read back by `from_dict`. ``num_labels`` is derived from ``id2label``.
    """

    model_type = "pixel"

    def __init__(
        self,
        hidden_size: int = 768,
        num_hidden_layers: int = 12,
        num_attention_heads: int = 12,
        intermediate_size: int = 3072,
        hidden_act: str = "gelu",
        hidden_dropout_prob: float = 0.1,
        attention_probs_dropout_prob: float = 0.1,
        initializer_range: float = 0.02,
        layer_norm_eps: float = 1e-12,
        image_size: int | list[int] | tuple[int, int] = (16, 8464),
        patch_size: int = 16,
        num_channels: int = 3,
        qkv_bias: bool = True,
        decoder_num_attention_heads: int = 16,
        decoder_hidden_size: int = 512,
        decoder_num_hidden_layers: int = 8,
        decoder_intermediate_size: int = 2048,
        mask_ratio: float = 0.25,
        norm_pix_loss: bool = True,
        **extra: Any,
    ) -> None:
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.hidden_act = hidden_act
        self.hidden_dropout_prob = hidden_dropout_prob
        self.attention_probs_dropout_prob = attention_probs_dropout_prob
        self.initializer_range = initializer_range
        self.layer_norm_eps = layer_norm_eps
        self.image_size = image_size
        self.patch_size = patch_size
        self.num_channels = num_channels
        self.qkv_bias = qkv_bias
        self.decoder_num_attention_heads = decoder_num_attention_heads
        self.decoder_hidden_size = decoder_hidden_size
        self.decoder_num_hidden_layers = decoder_num_hidden_layers
        self.decoder_intermediate_size = decoder_intermediate_size
        self.mask_ratio = mask_ratio
        self.norm_pix_loss = norm_pix_loss
        self.architectures: list[str] | None = None
        self.id2label: dict[int, str] | None = None
        self.label2id: dict[str, int] | None = None
        for key, value in extra.items():
            self._set_extra(key, value)

    @classmethod
    def variant(cls, name: str, **overrides: Any) -> PIXELConfig:
        """The named size of `VARIANTS` (e.g. "base", "tiny") with ``overrides`` (image_size, dropout...)."""
        if name not in VARIANTS:
            raise ValueError(f"unknown model variant {name!r}; choose one of {', '.join(VARIANTS)}")
        return cls(**{**VARIANTS[name], **overrides})

    # ------------------------------------------------------------------ fields with rules

    @property
    def image_size(self) -> list[int]:
        """[height, width] in pixels; an int n means [n, n]."""
        return self._image_size

    @image_size.setter
    def image_size(self, value: int | list[int] | tuple[int, int]) -> None:
        if isinstance(value, int):
            value = [value, value]
        value = list(value)
        if len(value) != 2 or not all(isinstance(v, int) and v > 0 for v in value):
            raise ValueError(f"config image_size must be an int or a pair of positive ints, got {value!r}")
        self._image_size = value

    @property
    def num_patches(self) -> int:
        """Number of patches L of the strip (image_size[1] // patch_size); requires a one-patch-high strip."""
        height, width = self.image_size
        if height != self.patch_size or width % self.patch_size != 0:
            raise ValueError(
                f"config image_size {self.image_size} is not a strip of {self.patch_size}-pixel patches: PIXEL "
                f"expects [patch_size, patch_size * L], e.g. [16, 8464]"
            )
        return width // self.patch_size

    @property
    def num_labels(self) -> int:
        """Number of labels of a task head: len(id2label), 2 when unset (as the original)."""
        return len(self.id2label) if self.id2label else 2

    @num_labels.setter
    def num_labels(self, value: int) -> None:
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"num_labels must be a non-negative int, got {value!r}")
        if self.id2label is None or len(self.id2label) != value:
            self.id2label = {i: f"LABEL_{i}" for i in range(value)}
            self.label2id = {label: i for i, label in self.id2label.items()}

    def _set_extra(self, key: str, value: Any) -> None:
        if key in CREDENTIAL_KEYS:
            logger.warning("config key %r looks like a credential and is not stored", key)
            return
        if key in IGNORED_KEYS:
            return
        if key == "id2label" and value is not None:
            value = {int(k): str(v) for k, v in value.items()}
        elif key == "label2id" and value is not None:
            value = {str(k): int(v) for k, v in value.items()}
        setattr(self, key, value)

    # ------------------------------------------------------------------ dict / json

    @classmethod
    def from_dict(cls, config_dict: dict[str, Any], **overrides: Any) -> PIXELConfig:
        """Build from a `config.json` dict; `overrides` replace fields. Raises ValueError on a foreign model_type."""
        model_type = config_dict.get("model_type", "pixel")
        if model_type not in ACCEPTED_MODEL_TYPES:
            raise ValueError(
                f"config model_type {model_type!r} is not a PIXEL model; accepted: {', '.join(ACCEPTED_MODEL_TYPES)}"
            )
        merged = {**config_dict, **overrides}
        num_labels = merged.pop("num_labels", None)
        merged.pop("_num_labels", None)
        config = cls(**merged)
        # An explicit id2label wins, then an overriding num_labels, then a stored num_labels without id2label.
        if num_labels is not None and "id2label" not in overrides:
            if "num_labels" in overrides or "id2label" not in config_dict:
                config.num_labels = int(num_labels)
        return config

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with sorted keys, as written to `config.json` (id2label keys become strings there)."""
        out: dict[str, Any] = {}
        for key, value in vars(self).items():
            if key.startswith("_") or key in CREDENTIAL_KEYS:
                continue
            if value is None and key in ("architectures", "id2label", "label2id"):
                continue
            out[key] = value
        out["image_size"] = list(self.image_size)
        out["model_type"] = self.model_type
        return dict(sorted(out.items()))

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json_file(cls, path: str | os.PathLike[str], **overrides: Any) -> PIXELConfig:
        try:
            with open(path, encoding="utf-8") as handle:
                config_dict = json.load(handle)
        except json.JSONDecodeError as err:
            raise ValueError(f"config file {os.fspath(path)} is not valid JSON: {err}") from err
        if not isinstance(config_dict, dict):
            raise ValueError(f"config file {os.fspath(path)} must hold a JSON object")
        cls._warn_unknown_keys(config_dict, path)
        return cls.from_dict(config_dict, **overrides)

    @classmethod
    def _warn_unknown_keys(cls, config_dict: dict[str, Any], path: str | os.PathLike[str]) -> None:
        """One warning per set of keys that no field, head or transformers config uses (a typo, usually)."""
        fields = [name for name in inspect.signature(cls.__init__).parameters if name not in ("self", "extra")]
        known = {*fields, *KNOWN_EXTRA_KEYS, *IGNORED_KEYS, *CREDENTIAL_KEYS}
        unknown = tuple(sorted(key for key in config_dict if key not in known))
        if not unknown or unknown in _warned_unknown:
            return
        _warned_unknown.add(unknown)
        described = []
        for key in unknown:
            near = difflib.get_close_matches(key, fields, n=1)
            described.append(f"{key} (did you mean {near[0]}?)" if near else key)
        logger.warning("config file %s has keys that pixel does not use: %s; they are kept and saved back",
                       os.fspath(path), ", ".join(described))

    @classmethod
    def from_pretrained(
        cls, path_or_hub_id: str | os.PathLike[str], revision: str | None = None, **overrides: Any
    ) -> PIXELConfig:
        """Read `config.json` from a folder, a json file or a Hugging Face Hub repo id (at `revision`)."""
        path = resolve_file(path_or_hub_id, CONFIG_NAME, revision, "model folder")
        return cls.from_json_file(path, **overrides)

    def save_pretrained(self, save_directory: str | os.PathLike[str]) -> str:
        """Write `config.json` into `save_directory` atomically; returns its path."""
        return os.fspath(write_text(os.path.join(save_directory, CONFIG_NAME), self.to_json_string()))

    def copy(self) -> PIXELConfig:
        return type(self).from_dict(json.loads(self.to_json_string()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PIXELConfig) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"{type(self).__name__} {self.to_json_string()}"

