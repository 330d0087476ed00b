"""Model outputs of every PIXEL model (encoder, decoder, pretraining, task heads): dataclasses with documented
shapes.

B batch, L patches of the strip, K kept patches (L when nothing is masked), D hidden size, P = 16*16*3 values
per patch. Indexing with an int walks the fields that are not None in order (the original's tuple form).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch


class ModelOutput:
    """Mixin: `out[0]`, `out["loss"]` and `to_tuple()` over the fields that are not None."""

    def to_tuple(self) -> tuple[Any, ...]:
        values = (getattr(self, f.name) for f in dataclasses.fields(self))  # type: ignore[arg-type]
        return tuple(v for v in values if v is not None)

    def __getitem__(self, index: int | str) -> Any:
        if isinstance(index, str):
            return getattr(self, index)
        return self.to_tuple()[index]


@dataclasses.dataclass
class PIXELModelOutput(ModelOutput):
    """Encoder output.

    last_hidden_state: [B, 1 + K, D] after the final LayerNorm; token 0 is CLS, then patches in natural order
        (no masking) or in `ids_keep` order (masking: token 1 + j is patch ids_restore.argsort()[:, j]).
    pooler_output: [B, D] tanh(dense(CLS)) when the model has a pooler.
    mask: [B, L] 1 = removed, 0 = kept (only when masking).
    ids_restore: [B, L] int64, position of each patch in the shuffled order (only when masking).
    hidden_states: tuple of 1 + num_layers tensors [B, 1 + K, D]: embeddings, then each layer's output (before the
        final LayerNorm).
    attentions: tuple of num_layers tensors [B, H, 1 + K, 1 + K].
    """

    last_hidden_state: torch.Tensor
    pooler_output: torch.Tensor | None = None
    mask: torch.Tensor | None = None
    ids_restore: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None
    attentions: tuple[torch.Tensor, ...] | None = None


@dataclasses.dataclass
class PIXELDecoderOutput(ModelOutput):
    """Decoder output.

    logits: [B, L, P] predicted (normalised, with norm_pix_loss) pixels per patch in patchify order.
    hidden_states: tuple of 1 + decoder layers tensors [B, 1 + L, decoder D] (before decoder_norm).
    attentions: tuple of decoder layers tensors [B, decoder H, 1 + L, 1 + L].
    """

    logits: torch.Tensor
    hidden_states: tuple[torch.Tensor, ...] | None = None
    attentions: tuple[torch.Tensor, ...] | None = None


@dataclasses.dataclass
class PIXELForPreTrainingOutput(ModelOutput):
    """Pretraining output.

    loss: scalar, mean per-patch MSE over masked, non-padding patches.
    logits: [B, L, P] predictions in patchify order (normalised per patch with norm_pix_loss).
    mask: [B, L] 1 = removed. ids_restore: [B, L] int64. attention_mask: [B, L] float (the input's, ones if None).
    hidden_states / attentions: the encoder's (see PIXELModelOutput).
    decoder_hidden_states / decoder_attentions: the decoder's (see PIXELDecoderOutput).
    """

    loss: torch.Tensor
    logits: torch.Tensor
    mask: torch.Tensor
    ids_restore: torch.Tensor
    attention_mask: torch.Tensor
    hidden_states: tuple[torch.Tensor, ...] | None = None
    attentions: tuple[torch.Tensor, ...] | None = None
    decoder_hidden_states: tuple[torch.Tensor, ...] | None = None
    decoder_attentions: tuple[torch.Tensor, ...] | None = None


@dataclasses.dataclass
class ClassifierOutput(ModelOutput):
    """Sequence and token classification heads.

    loss: scalar (when labels are given). logits: [B, C] per example (sequence classification; [B, D] when
    num_labels is 0) or [B, L, C] per patch (token classification). hidden_states / attentions: the
    encoder's, on request (see PIXELModelOutput).
    """

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None
    attentions: tuple[torch.Tensor, ...] | None = None


@dataclasses.dataclass
class QuestionAnsweringModelOutput(ModelOutput):
    """loss: scalar; start_logits / end_logits: [B, L + 1]: patches 0..L-1, then index L = CLS = no answer."""

    loss: torch.Tensor | None = None
    start_logits: torch.Tensor | None = None
    end_logits: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None
    attentions: tuple[torch.Tensor, ...] | None = None


@dataclasses.dataclass
class DependencyParsingModelOutput(ModelOutput):
    """loss: scalar (arc + relation cross-entropy); arc_logits: [B, L, L + 1] score of head j (0 = ROOT,
    j = word j - 1) for dependent word i; rel_logits: [B, L, L + 1, R] relation scores per (dependent, head)."""

    loss: torch.Tensor | None = None
    arc_logits: torch.Tensor | None = None
    rel_logits: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None
    attentions: tuple[torch.Tensor, ...] | None = None
