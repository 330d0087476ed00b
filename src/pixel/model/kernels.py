"""The fastest correct kernel for each call: attention (fused SDPA, or own dropout attention on CPU), dropout
(numpy's random numbers on CPU) and linear layers (oneDNN for fp32 on CPU).

Shapes: B batch, H heads, T tokens, d head size; bias is the additive key mask [B, 1, 1, T] (0 or -10000).
Every path computes softmax(q k^T / sqrt(d) + bias) v (with dropout on the probabilities in training); they
differ in speed and memory, not in meaning (tests/model/test_kernels.py).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import register_flop_formula


def attention(
    query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, bias: torch.Tensor, dropout_p: float
) -> torch.Tensor:
    """q, k, v [B, H, T, d], bias [B, 1, 1, T] -> context [B, H, T, d], through the fastest kernel for the call.

    Without dropout, and on accelerators (whose flash / memory-efficient kernels fuse dropout), torch's SDPA.
    With dropout on a CPU, SDPA falls back to an unfused path that is slower than the textbook attention;
    `dropout_attention` is faster than both and stores less (benchmarks/model.py measures all three).
    """
    if dropout_p == 0.0 or query.device.type != "cpu":
        return sdpa_attention(query, key, value, bias, dropout_p)
    return dropout_attention(query, key, value, bias, dropout_p)


def sdpa_attention(
    query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, bias: torch.Tensor, dropout_p: float
) -> torch.Tensor:
    """softmax(q k^T / sqrt(d) + bias) v through torch's fused kernel. q, k, v: [B, H, T, d]; bias [B, 1, 1, T]."""
    return F.scaled_dot_product_attention(query, key, value, attn_mask=bias.to(query.dtype), dropout_p=dropout_p)


def eager_attention(
    query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, bias: torch.Tensor, dropout_p: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """The same math written out; also returns the attention probabilities [B, H, T, T] (before dropout)."""
    scores = query @ key.transpose(-1, -2) / math.sqrt(query.shape[-1]) + bias.to(query.dtype)
    probs = scores.softmax(dim=-1)
    return F.dropout(probs, p=dropout_p, training=dropout_p > 0) @ value, probs


def dropout_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    bias: torch.Tensor,
    dropout_p: float,
    keep: torch.Tensor | None = None,
) -> torch.Tensor:
    """Attention with dropout on the probabilities, q, k, v [B, H, T, d] -> [B, H, T, d].

    Each probability is kept with chance 1 - dropout_p (``keep``: 0/1 [B, H, T, T]; None draws it with
    `keep_mask`) and the kept ones are scaled by 1 / (1 - dropout_p), as ``F.dropout``. Every step runs in the
    dtype of ``query`` (bf16 under autocast, as autocast runs the textbook attention on a CPU). For the backward
    pass only the probabilities and the keep mask are stored (the textbook attention also stores the dropped
    probabilities), every large intermediate is written once, and no T x T operand of a matmul is transposed
    (a copy on a CPU).
    """
    if not 0.0 < dropout_p < 1.0:
        raise ValueError(f"dropout_p must be in (0, 1), got {dropout_p}")
    return _DropoutAttention.apply(query, key, value, bias.to(query.dtype), dropout_p, keep)


# The bits of 1.0 per dtype, to build 0/1 masks with numpy (which has no bfloat16).
_ONE_BITS = {torch.float32: (np.uint32, 0x3F800000), torch.bfloat16: (np.uint16, 0x3F80),
             torch.float16: (np.uint16, 0x3C00)}


def keep_mask(shape: tuple[int, ...], keep_probability: float, dtype: torch.dtype = torch.bool) -> torch.Tensor:
    """``shape`` of independent draws, each 1 (True) with probability ``keep_probability`` (to 2^-32), else 0.

    Drawn by numpy's PCG64 from a seed taken from torch's global generator (so ``torch.manual_seed`` and the
    RNG state that gradient checkpointing restores decide it): 3-4x faster than ``torch.bernoulli_`` on a CPU,
    whose random numbers took a third of a bf16 training step with attention dropout. A float mask (0.0 / 1.0
    in ``dtype``) multiplies ~5x faster than ``torch.where`` with a bool one.
    """
    seed = int(torch.randint(0, 2**63 - 1, (), dtype=torch.int64))
    count = math.prod(shape)
    words = np.random.Generator(np.random.PCG64(seed)).bit_generator.random_raw((count + 1) // 2)
    kept = words.view(np.uint32)[:count] < np.uint32(min(round(keep_probability * 2**32), 2**32 - 1))
    if dtype == torch.bool:
        return torch.from_numpy(kept).view(shape)
    bits, one = _ONE_BITS[dtype]
    return torch.from_numpy(np.multiply(kept, bits(one), dtype=bits)).view(dtype).view(shape)


class _DropoutAttention(torch.autograd.Function):
    @staticmethod
    def forward(ctx, query, key, value, bias, dropout_p, keep):  # type: ignore[override]
        with torch.autocast(query.device.type, enabled=False):
            query = query * (1.0 / math.sqrt(query.shape[-1]))  # scaled once here: [B, H, T, d], not T x T
            scores = torch.matmul(query, key.transpose(-1, -2)).add_(bias)
            probs = torch.softmax(scores, dim=-1)
            del scores
            keep = keep_mask(tuple(probs.shape), 1.0 - dropout_p, probs.dtype) if keep is None else keep.to(probs.dtype)
            # The 1 / (1 - p) scale goes on the [B, H, T, d] context rather than on the T x T probabilities.
            context = torch.matmul(probs * keep, value).mul_(1.0 / (1.0 - dropout_p))
        ctx.save_for_backward(query, key, value, probs, keep)
        ctx.dropout_p = dropout_p
        return context

    @staticmethod
    def backward(ctx, grad_context):  # type: ignore[override]
        query, key, value, probs, keep = ctx.saved_tensors
        with torch.autocast(query.device.type, enabled=False):
            grad_context = grad_context.to(value.dtype) * (1.0 / (1.0 - ctx.dropout_p))
            # (g^T (p * keep))^T rather than (p * keep)^T g: only the small operand is transposed
            grad_value = torch.matmul(grad_context.transpose(-1, -2), probs * keep).transpose(-1, -2)
            grad_probs = torch.matmul(grad_context, value.transpose(-1, -2)).mul_(keep)
            grad_scores = torch._softmax_backward_data(grad_probs, probs, -1, probs.dtype)
            del grad_probs
            grad_query = torch.matmul(grad_scores, key).mul_(1.0 / math.sqrt(query.shape[-1]))
            grad_key = torch.matmul(query.transpose(-1, -2), grad_scores).transpose(-1, -2)
        return grad_query, grad_key, grad_value, None, None, None


def dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """``F.dropout``; on a CPU with the mask of `keep_mask` (its random numbers ~3x faster than torch's)."""
    if not training or p == 0.0:
        return x
    if x.device.type != "cpu" or p >= 1.0 or torch.compiler.is_compiling():
        return F.dropout(x, p, training=True)
    return (x * keep_mask(tuple(x.shape), 1.0 - p, x.dtype)).mul_(1.0 / (1.0 - p))


class Dropout(nn.Dropout):
    """``nn.Dropout`` computed by `dropout`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dropout(x, self.p, self.training)


def linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """``F.linear`` (x [..., in], weight [out, in] -> [..., out]); fp32 on a CPU through oneDNN.

    torch's fp32 matmuls on a CPU go to MKL, which on non-Intel CPUs runs at about half of the machine's fp32
    peak; oneDNN's reaches it (benchmarks/model.py prints the GFLOP/s of both). Results agree to float32
    rounding. bf16 (autocast), other devices and torch.compile keep ``F.linear`` (bf16 already runs on oneDNN).
    """
    if _use_onednn(x, weight):
        return _OneDNNLinear.apply(x, weight, bias)
    return F.linear(x, weight, bias)


def _use_onednn(x: torch.Tensor, weight: torch.Tensor) -> bool:
    return (
        x.device.type == "cpu"
        and x.dtype == torch.float32
        and weight.dtype == torch.float32
        and not torch.is_autocast_enabled("cpu")
        and torch.backends.mkldnn.is_available()
        and not torch.compiler.is_compiling()  # inductor lowers this op only for frozen (constant) weights
    )


def _onednn_matmul(a: torch.Tensor, b_transposed: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """a [..., k] @ b_transposed.T ([n, k]) + bias through oneDNN's fp32 inner-product kernel."""
    return torch.ops.mkldnn._linear_pointwise(a, b_transposed, bias, "none", [], "")


@register_flop_formula(torch.ops.mkldnn._linear_pointwise)
def _onednn_matmul_flops(a_shape, b_shape, *args, out_shape=None, **kwargs) -> int:
    """FLOPs of `_onednn_matmul` for torch's FlopCounterMode: 2 per multiply-add, as its count of ``aten.mm``."""
    return 2 * math.prod(a_shape) * b_shape[0]


class _OneDNNLinear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):  # type: ignore[override]
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        return _onednn_matmul(x, weight, bias)

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        x, weight = ctx.saved_tensors
        grad = grad.contiguous()
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_x = _onednn_matmul(grad, weight.t().contiguous())  # [..., out] @ [out, in]
        flat_grad = grad.reshape(-1, grad.shape[-1])
        if ctx.needs_input_grad[1]:
            # [out, N] @ [N, in]; oneDNN is fastest with both operands transposed into contiguous copies.
            flat_x = x.reshape(-1, x.shape[-1])
            grad_weight = _onednn_matmul(flat_grad.t().contiguous(), flat_x.t().contiguous())
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_bias = flat_grad.sum(0)
        return grad_x, grad_weight, grad_bias


class Linear(nn.Linear):
    """``nn.Linear`` (same parameters and state-dict keys) computed by `linear`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return linear(x, self.weight, self.bias)
