"""Transformer building blocks with the original's state-dict names: attention, MLP, pre-LN layer, sin-cos table
(the kernels they run on: `pixel.model.kernels`).

Shapes: B batch, T tokens (CLS + patches), D hidden size, H heads, d = D / H.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from pixel.model.kernels import (
    Dropout,
    Linear,
    attention,
    bf16_linear_gelu,
    bf16_linear_gelu_applies,
    eager_attention,
)

# transformers 4.17 `get_extended_attention_mask`: masked keys get -10000 added to their scores.
MASKED_SCORE = -10000.0

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "gelu": nn.GELU,  # exact erf GELU, as the original's ACT2FN["gelu"]
    "gelu_new": lambda: nn.GELU(approximate="tanh"),
    "gelu_pytorch_tanh": lambda: nn.GELU(approximate="tanh"),
    "relu": nn.ReLU,
    "silu": nn.SiLU,
    "swish": nn.SiLU,
}


def activation(name: str) -> nn.Module:
    if name not in ACTIVATIONS:
        raise ValueError(f"config hidden_act {name!r} is not supported; use one of {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


def attention_bias(attention_mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Additive key mask: attention_mask [B, T] (1 = attend) -> [B, 1, 1, T] with 0 or -10000 in `dtype`."""
    return ((1.0 - attention_mask.to(dtype)) * MASKED_SCORE)[:, None, None, :]


class PIXELSelfAttention(nn.Module):
    """Multi-head self-attention with separate query/key/value projections (keys as the original)."""

    def __init__(self, hidden_size: int, num_heads: int, dropout: float, qkv_bias: bool) -> None:
        super().__init__()
        if hidden_size % num_heads != 0:
            raise ValueError(
                f"hidden size {hidden_size} is not a multiple of the number of heads {num_heads}"
            )
        self.num_heads = num_heads
        self.query = Linear(hidden_size, hidden_size, bias=qkv_bias)
        self.key = Linear(hidden_size, hidden_size, bias=qkv_bias)
        self.value = Linear(hidden_size, hidden_size, bias=qkv_bias)
        self.dropout_prob = dropout

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, tokens, hidden = x.shape
        return x.view(batch, tokens, self.num_heads, hidden // self.num_heads).transpose(1, 2)

    def forward(
        self, hidden: torch.Tensor, bias: torch.Tensor, output_attentions: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """hidden [B, T, D], bias [B, 1, 1, T] -> context [B, T, D], probabilities [B, H, T, T] or None."""
        query = self._split_heads(self.query(hidden))
        key = self._split_heads(self.key(hidden))
        value = self._split_heads(self.value(hidden))
        dropout_p = self.dropout_prob if self.training else 0.0
        probs = None
        if output_attentions:
            context, probs = eager_attention(query, key, value, bias, dropout_p)
        else:
            context = attention(query, key, value, bias, dropout_p)
        return context.transpose(1, 2).flatten(2), probs


class PIXELSelfOutput(nn.Module):
    def __init__(self, hidden_size: int, dropout: float) -> None:
        super().__init__()
        self.dense = Linear(hidden_size, hidden_size)
        self.dropout = Dropout(dropout)

    def forward(self, context: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.dense(context))


class PIXELAttention(nn.Module):
    """`attention.attention` (self-attention) + `attention.output` (projection), as the original's keys."""

    def __init__(
        self, hidden_size: int, num_heads: int, dropout: float, attention_dropout: float, qkv_bias: bool
    ):
        super().__init__()
        self.attention = PIXELSelfAttention(hidden_size, num_heads, attention_dropout, qkv_bias)
        self.output = PIXELSelfOutput(hidden_size, dropout)

    def forward(
        self, hidden: torch.Tensor, bias: torch.Tensor, output_attentions: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        context, probs = self.attention(hidden, bias, output_attentions)
        return self.output(context), probs


class PIXELIntermediate(nn.Module):
    def __init__(self, hidden_size: int, intermediate_size: int, hidden_act: str) -> None:
        super().__init__()
        self.dense = Linear(hidden_size, intermediate_size)
        self.act = activation(hidden_act)
        self.exact_gelu = hidden_act == "gelu"

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        if self.exact_gelu and bf16_linear_gelu_applies(hidden, self.dense.weight):
            return bf16_linear_gelu(hidden, self.dense.weight, self.dense.bias)
        return self.act(self.dense(hidden))


class PIXELOutput(nn.Module):
    def __init__(self, hidden_size: int, intermediate_size: int, dropout: float) -> None:
        super().__init__()
        self.dense = Linear(intermediate_size, hidden_size)
        self.dropout = Dropout(dropout)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.dense(hidden))


class PIXELLayer(nn.Module):
    """Pre-LN transformer block: h + Attn(LN(h)), then h + MLP(LN(h)). hidden [B, T, D] -> [B, T, D]."""

    def __init__(
        self,
        hidden_size: int,
        num_heads: int,
        intermediate_size: int,
        hidden_act: str = "gelu",
        dropout: float = 0.0,
        attention_dropout: float = 0.0,
        layer_norm_eps: float = 1e-12,
        qkv_bias: bool = True,
    ) -> None:
        super().__init__()
        self.attention = PIXELAttention(hidden_size, num_heads, dropout, attention_dropout, qkv_bias)
        self.intermediate = PIXELIntermediate(hidden_size, intermediate_size, hidden_act)
        self.output = PIXELOutput(hidden_size, intermediate_size, dropout)
        self.layernorm_before = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.layernorm_after = nn.LayerNorm(hidden_size, eps=layer_norm_eps)

    def forward(
        self, hidden: torch.Tensor, bias: torch.Tensor, output_attentions: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        attended, probs = self.attention(self.layernorm_before(hidden), bias, output_attentions)
        hidden = hidden + attended
        hidden = hidden + self.output(self.intermediate(self.layernorm_after(hidden)))
        return hidden, probs


def run_layers(
    layers: Sequence[PIXELLayer],
    hidden: torch.Tensor,
    bias: torch.Tensor,
    *,
    gradient_checkpointing: bool = False,
    output_hidden_states: bool = False,
    output_attentions: bool = False,
) -> tuple[torch.Tensor, tuple[torch.Tensor, ...] | None, tuple[torch.Tensor, ...] | None]:
    """Apply `layers` in turn. Returns (final hidden [B, T, D], per-layer inputs + final output, attentions).

    With gradient checkpointing (training only) each layer's activations are recomputed in the backward pass.
    """
    all_hidden: list[torch.Tensor] = [hidden] if output_hidden_states else []
    all_attentions: list[torch.Tensor] = []
    for layer in layers:
        if gradient_checkpointing and torch.is_grad_enabled():
            hidden, probs = checkpoint(layer, hidden, bias, output_attentions, use_reentrant=False)
        else:
            hidden, probs = layer(hidden, bias, output_attentions)
        if output_hidden_states:
            all_hidden.append(hidden)
        if probs is not None:
            all_attentions.append(probs)
    return (
        hidden,
        tuple(all_hidden) if output_hidden_states else None,
        tuple(all_attentions) if output_attentions else None,
    )


def sincos_position_table(hidden_size: int, num_patches: int, add_cls_row: bool = True) -> torch.Tensor:
    """Fixed 2-D sin-cos position embeddings of the original, laid over a 1-D strip: [1, 1 + L, D] float32.

    The original builds a square grid of side s = int(sqrt(L)) (23 for L = 529): patch i gets grid column
    i % s and row i // s. The first D/2 dims encode the column, the last D/2 the row; within each half, D/4
    sines then D/4 cosines of pos * omega_k, omega_k = 1 / 10000^(k / (D/4)), computed in float64 and cast to
    float32 (as the original's numpy code). For L that is not a square, rows simply continue past s. The CLS
    row (index 0) is zeros.
    """
    if hidden_size % 4 != 0:
        raise ValueError(
            f"hidden size {hidden_size} must be a multiple of 4 for 2-D sin-cos position embeddings"
        )
    side = max(1, math.isqrt(num_patches))
    index = np.arange(num_patches, dtype=np.float64)
    columns, rows = index % side, index // side

    def one_axis(positions: np.ndarray) -> np.ndarray:
        quarter = hidden_size // 4
        omega = 1.0 / 10000 ** (np.arange(quarter, dtype=np.float64) / quarter)
        angles = np.outer(positions, omega)
        return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)

    table = np.concatenate([one_axis(columns), one_axis(rows)], axis=1)
    if add_cls_row:
        table = np.concatenate([np.zeros((1, hidden_size)), table], axis=0)
    return torch.from_numpy(table.astype(np.float32))[None]
