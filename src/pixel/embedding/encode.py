"""Sentence embeddings: one vector per text from the encoder of any PIXEL folder.

Each text is rendered into one strip by the model's renderer (a long text is cut to the strip, as everywhere),
encoded without masking, and the final hidden states (after the encoder's last LayerNorm) are pooled:

- ``mean`` (default): the mean over the patches the attention mask covers, the text patches and the black end
  patch; not CLS, not padding. These are the patches every other patch attends to, the mean pooling of the
  classification heads runs over the same ones (`pixel.model.pooling.masked_mean`, here without a head's
  trained linear layer), and the empty text, whose strip is the end patch alone, has a vector too.
- ``max``: the element-wise maximum over the same patches.
- ``cls``: the CLS token's final hidden state, for every encoder (a CLS classifier's tanh pooler is a part
  of its head and is not applied).

Padding changes nothing: padded keys get a -10000 attention bias (a weight of exactly 0 after the softmax in
float32) and padded patches are left out of the pooling, so a text embeds the same in any strip length.

Batching is `pixel.finetune.base.Inference`, the stream of `pixel predict`: texts are rendered in DataLoader
workers while the model encodes the previous batch, and the rows come back in input order.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from pixel.finetune.base import Family, Feature, Inference
from pixel.model.pixel import PIXELModel
from pixel.model.pooling import masked_max, masked_mean
from pixel.runtime import autocast, check_inference_precision, inference_precision

POOLINGS = ("mean", "max", "cls")


class EmbeddingEncoder(PIXELModel):
    """A `PIXELModel` that loads the encoder of any PIXEL folder: a pretraining checkpoint (its decoder is
    dropped), a `PIXELModel` folder, or a fine-tuned model (its ``vit``; the head and the ViT pooler are
    dropped), without a warning for what it drops. A missing encoder weight is an error: nothing trains it."""

    _keys_to_ignore_on_load = (r"^(?!(embeddings|encoder|layernorm)\.)",)
    requires_every_weight = True


def load_encoder(model: str | os.PathLike[str], renderer: str | os.PathLike[str] | None = None,
                 max_seq_length: int | None = None, device: torch.device | str = "cpu") -> tuple[PIXELModel, Any]:
    """(encoder in eval mode on ``device``, its renderer) of a folder or Hub id.

    renderer: a renderer folder or backend name instead of the model's own (`pixel.render.choose`).
    max_seq_length: patches per strip, at most the model's (default: the model's); shorter strips encode
    short texts faster and give the same vectors (see the module docstring).
    """
    from pixel.finetune.model_folder import load_task_renderer

    encoder = EmbeddingEncoder.from_pretrained(model, add_pooling_layer=False).to(device).eval()
    length = encoder.num_patches if max_seq_length is None else int(max_seq_length)
    if not 2 <= length <= encoder.num_patches:
        raise ValueError(f"max_seq_length {length} does not fit {os.fspath(model)}: it reads strips of 2 to "
                         f"{encoder.num_patches} patches")
    return encoder, load_task_renderer(renderer, os.fspath(model), length)


def pool(hidden: torch.Tensor, attention_mask: torch.Tensor, pooling: str) -> torch.Tensor:
    """hidden: [B, 1 + L, D] (CLS, then the patches); attention_mask: [B, L] (1 = text or end patch) -> [B, D]
    by ``pooling`` (see the module docstring)."""
    if pooling == "cls":
        return hidden[:, 0]
    if pooling == "mean":
        return masked_mean(hidden[:, 1:], attention_mask)
    if pooling == "max":
        return masked_max(hidden[:, 1:], attention_mask)
    raise ValueError(f"pooling {pooling!r} is not supported; choose one of {', '.join(POOLINGS)}")


class PooledEncoder(nn.Module):
    """``encoder`` followed by ``pooling``: forward(pixel_values float [B, 3, 16, 16 L] in [0, 1],
    attention_mask [B, L]) -> float32 [B, D]. The encoder runs in ``precision`` ("fp32", or "bf16" autocast:
    `pixel.runtime.autocast`); the pooling is float32."""

    def __init__(self, encoder: PIXELModel, pooling: str, precision: str = "fp32") -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling {pooling!r} is not supported; choose one of {', '.join(POOLINGS)}")
        self.encoder, self.pooling, self.precision = encoder, pooling, precision

    def forward(self, pixel_values: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        with autocast(pixel_values.device, self.precision):
            hidden = self.encoder(pixel_values, attention_mask).last_hidden_state
        return pool(hidden.float(), attention_mask, self.pooling)


class TextFamily(Family):
    """Plain texts as a `Family` of `Inference`: one strip per text, one vector per strip."""

    name = "embedding"

    def features(self, index: int, example: str, renderer: Any, vocabulary: None, unseen: Any) -> list[Feature]:
        encoding = renderer(example)
        return [Feature({"pixel_values": encoding.pixel_values, "num_text_patches": encoding.num_text_patches},
                        index)]

    def reduce(self, batch: dict[str, Any], output: torch.Tensor, features: Sequence[Feature]) -> list[np.ndarray]:
        return list(output.cpu().numpy())

    def decode(self, examples: list[str], features: list[Feature], results: list[np.ndarray],
               vocabulary: None) -> list[np.ndarray]:
        return results


def embed(model: str | os.PathLike[str] | nn.Module, texts: Sequence[str], pooling: str = "mean",
          batch_size: int = 32, num_workers: int | None = None, precision: str = "auto", *,
          renderer: Any = None, max_seq_length: int | None = None, device: torch.device | str = "auto",
          quiet: bool = True) -> np.ndarray:
    """Embeddings of ``texts``: float32 [N, D], row i for texts[i].

    model: a folder or Hub id (`load_encoder`: a pretraining checkpoint, a PIXELModel or a fine-tuned model),
        or a loaded `PIXELModel` or head (its ``vit`` is used) with ``renderer`` the TextRenderer of its strips.
    device: "auto" is a GPU if there is one (a loaded model: where it is), else "cpu".
    renderer: with a folder, a renderer folder or backend name replacing the model's own.
    pooling: "mean", "max" or "cls" (module docstring). batch_size: strips per forward pass. num_workers:
        rendering processes (None: none for a few batches, else up to 4). precision: "auto" (bf16 where the
        device has it natively), "bf16" or "fp32". max_seq_length: patches per strip of a folder's renderer.
    quiet: False shows a progress bar on a terminal and prints the throughput on stderr.
    """
    from pixel.finetune.model_folder import default_device

    if isinstance(texts, (str, bytes)):
        raise TypeError("texts must be a list of strings, got a single string; wrap it in a list")
    texts = list(texts)
    wrong = next((i for i, text in enumerate(texts) if not isinstance(text, str)), None)
    if wrong is not None:
        raise TypeError(f"texts[{wrong}] is a {type(texts[wrong]).__name__}, not a string")
    if not texts:
        raise ValueError("no texts to embed")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    check_inference_precision(precision)
    if isinstance(model, (str, os.PathLike)):
        device = default_device(device)
        encoder, renderer = load_encoder(model, renderer, max_seq_length, device)
    else:
        encoder = getattr(model, "vit", model)
        if not isinstance(encoder, PIXELModel) or renderer is None or isinstance(renderer, (str, os.PathLike)):
            raise TypeError("a loaded model needs renderer=its TextRenderer, and must be a PIXELModel or a head "
                            "with one as .vit; or pass a model folder")
        if max_seq_length is not None:
            raise ValueError("max_seq_length applies to a model folder's renderer; with a loaded model, render "
                             "with a renderer of that length")
        device = next(encoder.parameters()).device if device == "auto" else torch.device(device)
    precision = inference_precision(device, precision)
    inference = Inference(PooledEncoder(encoder, pooling, precision), TextFamily({}), texts, renderer, None, device,
                          batch_size, with_targets=False, num_workers=num_workers, progress=not quiet)
    vectors = np.stack([vector for _text, vector in inference])
    if not quiet:
        print(f"embedded {inference.summary()} ({precision}, {pooling} pooling)", file=sys.stderr)
    return vectors
