"""Pooling head of `PIXELForSequenceClassification` (spec 2.5): mean, max, CLS or PMA pooling of patch outputs.

Module and parameter names follow the original (`pooler.linear`, `pooler.ln`, `pooler.pooling.pooler.S`,
`pooler.pooling.pooler.mab.fc_{q,k,v,o}`) so fine-tuned checkpoints load unchanged. `linear` and `ln` exist
in every mode, as in the original; the ones a mode does not use are frozen (requires_grad False) so that they
neither collect optimizer state nor weight decay, and are still saved.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

POOLING_MODES = ("mean", "max", "cls", "pmaK (K = number of heads, e.g. pma4)")


def parse_pooling_mode(mode: str) -> tuple[str, int]:
    """Pooling mode string ("mean", "max", "cls", "pmaK") -> (kind, K); K is 0 except for PMA. ValueError otherwise."""
    if not isinstance(mode, str):
        raise ValueError(f"pooling_mode must be a string, one of {POOLING_MODES}; got {mode!r}")
    mode = mode.lower()
    if mode in ("mean", "max", "cls"):
        return mode, 0
    if mode.startswith("pma") and mode[3:].isdigit() and int(mode[3:]) > 0:
        return "pma", int(mode[3:])
    raise ValueError(f"pooling_mode {mode!r} is not supported; choose one of {POOLING_MODES}")


class MultiheadAttentionBlock(nn.Module):
    """The set-transformer MAB as PIXEL's PMA uses it, quirks included (they change the numbers, so they stay):

    * the padding mask multiplies the projected KEYS only: a padding key scores 0 (not -inf), so padding
      still receives softmax weight, and its values are not masked;
    * scores are divided by sqrt(hidden_size), whatever the number of heads;
    * `O = Q + softmax(Q K^T / sqrt(D)) V` per head, then `O + relu(fc_o(O))`; no layer norms.
    """

    def __init__(self, hidden_size: int, num_heads: int) -> None:
        super().__init__()
        if hidden_size % num_heads != 0:
            raise ValueError(
                f"PMA with {num_heads} heads needs hidden_size divisible by it, got {hidden_size}"
            )
        self.hidden_size = hidden_size
        self.num_heads = num_heads
        self.fc_q = nn.Linear(hidden_size, hidden_size)
        self.fc_k = nn.Linear(hidden_size, hidden_size)
        self.fc_v = nn.Linear(hidden_size, hidden_size)
        self.fc_o = nn.Linear(hidden_size, hidden_size)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        """[B, T, D] -> [B, H, T, D/H]."""
        batch, length, _ = x.shape
        return x.view(batch, length, self.num_heads, -1).transpose(1, 2)

    def attention_weights(self, q: torch.Tensor, keys: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """q: [B, H, S, D/H] split queries; keys: [B, T, D]; mask: [B, T] -> softmax weights [B, H, S, T]."""
        k = self._split(self.fc_k(keys) * mask.unsqueeze(-1).to(keys.dtype))
        return torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.hidden_size), dim=-1)

    def forward(self, queries: torch.Tensor, keys: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """queries: [B, S, D]; keys: [B, T, D]; mask: [B, T] 1 = text -> [B, S, D]."""
        q = self._split(self.fc_q(queries))
        weights = self.attention_weights(q, keys, mask)
        out = (q + weights @ self._split(self.fc_v(keys))).transpose(1, 2)
        out = out.reshape(queries.shape[0], queries.shape[1], self.hidden_size)
        return out + F.relu(self.fc_o(out))


class PoolingByMultiheadAttention(nn.Module):
    """PMA with one learned seed `S` [1, 1, D] (Xavier-uniform init) attending over the patches."""

    def __init__(self, hidden_size: int, num_heads: int) -> None:
        super().__init__()
        self.S = nn.Parameter(torch.empty(1, 1, hidden_size))
        nn.init.xavier_uniform_(self.S)
        self.mab = MultiheadAttentionBlock(hidden_size, num_heads)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """hidden: [B, L, D]; mask: [B, L] -> [B, D]."""
        return self.mab(self._seeds(hidden), hidden, mask).squeeze(1)

    def patch_weights(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The seed's attention over the patches, averaged over the heads: [B, L] (each row sums to 1)."""
        q = self.mab._split(self.mab.fc_q(self._seeds(hidden)))
        return self.mab.attention_weights(q, hidden, mask).mean(dim=1)[:, 0]

    def _seeds(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.S.expand(hidden.shape[0], -1, -1)


class _PMAHolder(nn.Module):
    """Keeps the original's key path `pooling.pooler.*` for the PMA parameters."""

    def __init__(self, hidden_size: int, num_heads: int) -> None:
        super().__init__()
        self.pooler = PoolingByMultiheadAttention(hidden_size, num_heads)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.pooler(hidden, mask)


def masked_mean(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """hidden: [B, L, D]; mask: [B, L] -> [B, D], mean over the masked-in positions."""
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)


def masked_max(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """hidden: [B, L, D]; mask: [B, L] -> [B, D], max over the masked-in positions (others set to -1e9)."""
    return _max_over_text(hidden, mask).values


def _max_over_text(hidden: torch.Tensor, mask: torch.Tensor) -> torch.return_types.max:
    """(values, indices) [B, D] of the max over the positions where mask is 1 (the others set to -1e9)."""
    fill = max(-1e9, torch.finfo(hidden.dtype).min)  # -1e9 as the original; fp16 cannot hold it
    return hidden.masked_fill(mask.unsqueeze(-1) == 0, fill).max(dim=1)


class SequencePoolingHead(nn.Module):
    """Pools encoder outputs into one vector per example (the original `PoolingForSequenceClassificationHead`).

    mean / max: `linear` -> GELU -> `ln` (if add_layer_norm) -> dropout -> masked mean / max over patches.
    pmaK: `ln` (if add_layer_norm) -> dropout -> PMA with K heads (no linear, no GELU).
    cls: returns its input, the encoder's pooler output, untouched.
    """

    def __init__(
        self, hidden_size: int, dropout: float, pooling_mode: str = "mean", add_layer_norm: bool = True
    ):
        super().__init__()
        self.kind, num_heads = parse_pooling_mode(pooling_mode)
        self.add_layer_norm = add_layer_norm
        self.linear = nn.Linear(hidden_size, hidden_size)
        self.activation = nn.GELU()
        self.ln = nn.LayerNorm(hidden_size, eps=1e-12)
        self.dropout = nn.Dropout(dropout)
        if self.kind == "pma":
            self.pooling = _PMAHolder(hidden_size, num_heads)
        if self.kind in ("cls", "pma"):
            self.linear.requires_grad_(False)
        if self.kind == "cls" or not add_layer_norm:
            self.ln.requires_grad_(False)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """hidden: [B, L, D] patch outputs ([B, D] pooler output in cls mode); mask: [B, L] 1 = text (None in
        cls mode) -> [B, D]."""
        if self.kind == "cls":
            return hidden
        hidden = self._patch_features(hidden, mask)
        if self.kind == "mean":
            return masked_mean(hidden, mask)
        if self.kind == "max":
            return masked_max(hidden, mask)
        return self.pooling(hidden, mask)

    def _patch_features(self, hidden: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """[B, L, D] patch outputs -> the [B, L, D] vectors that mean / max / PMA pool."""
        if mask is None:
            raise ValueError(f"{self.kind} pooling needs the attention mask of the patches")
        if self.kind != "pma":
            hidden = self.activation(self.linear(hidden))
        if self.add_layer_norm:
            hidden = self.ln(hidden)
        return self.dropout(hidden)

    @torch.no_grad()
    def patch_weights(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """How much of the pooled vector each patch makes up, as the pooling weighs them: [B, L], rows sum to 1.

        hidden: [B, L, D] patch outputs; mask: [B, L]. mean: 1 / (number of text patches) on the text
        patches; max: the share of the D dimensions whose maximum the patch holds; pmaK: the seed's attention
        weights averaged over the K heads (padding included: PMA does not mask its softmax). Not for cls.
        """
        if self.kind == "cls":
            raise ValueError("cls pooling reads one vector (the CLS output), not weighted patches")
        mask = mask.to(hidden.dtype)
        if self.kind == "mean":
            return mask / mask.sum(dim=1, keepdim=True).clamp(min=1e-9)
        features = self._patch_features(hidden, mask)
        if self.kind == "pma":
            return self.pooling.pooler.patch_weights(features, mask)
        winners = _max_over_text(features, mask).indices  # [B, D]: the patch holding each dimension's max
        counts = torch.zeros_like(mask).scatter_add_(1, winners, torch.ones_like(winners, dtype=mask.dtype))
        return counts / features.shape[-1]
