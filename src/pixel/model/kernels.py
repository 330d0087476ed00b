"""The fastest correct kernel for each call: attention (fused SDPA, or own kernels on a CPU for dropout and for bf16
inference), dropout (numpy's random numbers on CPU) and linear layers (oneDNN for fp32 on CPU, and for the fused
linear + GELU of bf16 inference).

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
    `dropout_attention` is faster than both and stores less (benchmarks/model.py measures all three). bf16
    inference on a CPU: `blocked_attention` (2x SDPA's CPU flash kernel at pixel-base's shapes).
    """
    if query.device.type != "cpu" or torch.compiler.is_compiling():
        return sdpa_attention(query, key, value, bias, dropout_p)
    if dropout_p > 0.0:
        return dropout_attention(query, key, value, bias, dropout_p)
    if query.dtype == torch.bfloat16 and not _needs_grad(query, key, value):
        return blocked_attention(query, key, value, bias)
    return sdpa_attention(query, key, value, bias, dropout_p)


def _needs_grad(*tensors: torch.Tensor) -> bool:
    return torch.is_grad_enabled() and any(t.requires_grad for t in tensors)


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


# Heads per step of `blocked_attention`: ~1M scores (3 heads of pixel-base's 530 tokens, 2 MB in bf16).
_BLOCK_ELEMENTS = 1 << 20


def blocked_attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """The textbook attention a few heads at a time (no autograd), q, k, v [B, H, T, d] -> [B, H, T, d].

    Each step's T x T scores stay in the CPU's cache from the scores matmul through softmax to the context
    matmul. In bf16, as autocast runs the original's attention: probabilities rounded to bf16 before @ v.
    """
    batch, heads, tokens, dim = query.shape
    query = (query * (1.0 / math.sqrt(dim))).flatten(0, 1)
    key_t, value = key.flatten(0, 1).transpose(-1, -2), value.flatten(0, 1)
    bias = bias.to(query.dtype).expand(batch, heads, 1, tokens).flatten(0, 1)
    context = torch.empty_like(value)
    step = max(1, _BLOCK_ELEMENTS // (tokens * tokens))
    for start in range(0, batch * heads, step):
        i = slice(start, start + step)
        torch.bmm(torch.baddbmm(bias[i], query[i], key_t[i]).softmax(-1), value[i], out=context[i])
    return context.view(batch, heads, tokens, dim)


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
    probabilities).
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


# Heads per step of `_DropoutAttention`: as many as keep a step's T x T tensors within ~1 MB of fp32 (1 for
# pixel-base's 397 and 530 tokens; short strips take many heads at once, which saves Python overhead).
_ATTENTION_CHUNK_ELEMENTS = 1 << 18


class _DropoutAttention(torch.autograd.Function):
    """A few (example, head) pairs at a time: their T x T scores, probabilities and mask stay in the CPU's
    cache between the ops (the whole [B, H, T, T] tensors do not), and with one head per step each matmul is
    a plain 2-d one, which oneDNN runs at twice MKL's fp32 rate. Forward + backward of a pixel-base layer,
    1 thread: ~1.5x faster in fp32 than the same math on whole tensors, ~1.1x in bf16 (where drawing the mask
    takes much of the time)."""

    @staticmethod
    def forward(ctx, query, key, value, bias, dropout_p, keep):  # type: ignore[override]
        batch, heads, tokens, dim = query.shape
        with torch.autocast(query.device.type, enabled=False):
            if keep is None:
                keep = keep_mask((batch, heads, tokens, tokens), 1.0 - dropout_p, query.dtype)
            keep = keep.to(query.dtype).reshape(batch * heads, tokens, tokens)
            query = (query * (1.0 / math.sqrt(dim))).flatten(0, 1)  # scaled once: [B H, T, d], not T x T
            key, value = key.flatten(0, 1), value.flatten(0, 1)
            value_t = value.transpose(-1, -2).contiguous()
            bias = bias.expand(batch, heads, 1, tokens).flatten(0, 1)
            probs = torch.empty_like(keep)
            context = torch.empty_like(value)
            for i in _chunks(batch * heads, tokens):
                torch.softmax(_matmul_t(query[i], key[i]).add_(bias[i]), -1, out=probs[i])
                context[i] = _matmul_t(probs[i] * keep[i], value_t[i])
            # The 1 / (1 - p) scale goes on the [B, H, T, d] context rather than on the T x T probabilities.
            context = context.view(batch, heads, tokens, -1).mul_(1.0 / (1.0 - dropout_p))
        ctx.save_for_backward(query, key, value, probs, keep)
        ctx.dropout_p = dropout_p
        return context

    @staticmethod
    def backward(ctx, grad_context):  # type: ignore[override]
        query, key, value, probs, keep = ctx.saved_tensors
        batch_heads, tokens, dim = query.shape
        with torch.autocast(query.device.type, enabled=False):
            grad = (grad_context.to(value.dtype) * (1.0 / (1.0 - ctx.dropout_p))).flatten(0, 1)
            key_t = key.transpose(-1, -2).contiguous()
            grad_query, grad_key, grad_value = torch.empty_like(query), torch.empty_like(key), torch.empty_like(value)
            for i in _chunks(batch_heads, tokens):
                torch.matmul((probs[i] * keep[i]).transpose(-1, -2), grad[i], out=grad_value[i])
                grad_probs = _matmul_t(grad[i], value[i]).mul_(keep[i])
                grad_scores = torch._softmax_backward_data(grad_probs, probs[i], -1, probs.dtype)
                grad_query[i] = _matmul_t(grad_scores, key_t[i])
                torch.matmul(grad_scores.transpose(-1, -2), query[i], out=grad_key[i])
            grad_query.mul_(1.0 / math.sqrt(dim))
        batch, heads = grad_context.shape[:2]
        return (grad_query.view(batch, heads, tokens, -1), grad_key.view(batch, heads, tokens, -1),
                grad_value.view(batch, heads, tokens, -1), None, None, None)


def _chunks(count: int, tokens: int):
    """Indices of the steps of `_DropoutAttention` over ``count`` heads: ints (2-d slices) or ranges."""
    size = max(1, _ATTENTION_CHUNK_ELEMENTS // (tokens * tokens))
    if size == 1:
        return range(count)
    return (slice(start, min(start + size, count)) for start in range(0, count, size))


def _matmul_t(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """a [..., m, k] @ b [..., n, k]^T; 2-d fp32 on a CPU through oneDNN (b is already its weight layout)."""
    if a.dim() == 2 and _use_onednn(a, b):
        return _onednn_matmul(a, b)
    return torch.matmul(a, b.transpose(-1, -2))


# Below this many elements torch's own dropout is faster (numpy's generator costs ~20 us to set up).
_NUMPY_MASK_MIN = 4096


def dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """``F.dropout``; on a CPU with the mask of `keep_mask` (its random numbers ~3x faster than torch's)."""
    if not training or p == 0.0:
        return x
    if x.device.type != "cpu" or p >= 1.0 or x.numel() < _NUMPY_MASK_MIN or torch.compiler.is_compiling():
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


# Below this many multiply-adds oneDNN's per-call overhead outweighs its faster kernel (measured, 1 thread).
_ONEDNN_MIN_MACS = 1 << 20


def _use_onednn(x: torch.Tensor, weight: torch.Tensor) -> bool:
    return (
        x.device.type == "cpu"
        and x.numel() * weight.shape[0] >= _ONEDNN_MIN_MACS
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


def bf16_linear_gelu_applies(x: torch.Tensor, weight: torch.Tensor) -> bool:
    """Whether `bf16_linear_gelu` computes ``F.gelu(linear(x, weight, ...))`` here: bf16 autocast on a CPU,
    no autograd (inference)."""
    return (x.device.type == "cpu" and torch.is_autocast_enabled("cpu")
            and torch.get_autocast_dtype("cpu") == torch.bfloat16 and not _needs_grad(x, weight)
            and torch.backends.mkldnn.is_available() and not torch.compiler.is_compiling())


def bf16_linear_gelu(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """exact (erf) GELU of x [..., in] @ weight [out, in]^T + bias -> [..., out] in bf16, through oneDNN's linear
    with the GELU fused into it: the activations are written once instead of three times, and the GELU is
    computed on the fp32 accumulator before the rounding to bf16. No autograd (see `bf16_linear_gelu_applies`)."""
    bf16 = torch.bfloat16
    return torch.ops.mkldnn._linear_pointwise(x.to(bf16), weight.to(bf16), None if bias is None else bias.to(bf16),
                                              "gelu", [], "none")


class Linear(nn.Linear):
    """``nn.Linear`` (same parameters and state-dict keys) computed by `linear`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return linear(x, self.weight, self.bias)
