"""pixel.model.kernels: every kernel computes the textbook attention / linear layer; the choice per call."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from pixel.model import kernels, layers
from pixel.model.config import PIXELConfig
from pixel.model.pixel import PIXELForPreTraining

P = 0.1  # the original recipes' attention dropout


def qkv(batch: int = 2, heads: int = 3, tokens: int = 24, dim: int = 8, dtype=torch.float32, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    tensors = [torch.randn(batch, heads, tokens, dim, generator=generator).to(dtype).requires_grad_() for _ in range(3)]
    bias = torch.zeros(batch, 1, 1, tokens)
    bias[0, ..., tokens // 2:] = layers.MASKED_SCORE  # padding keys in the first example
    return (*tensors, bias)


def textbook(query, key, value, bias, keep, p):
    """softmax(q k^T / sqrt(d) + bias), dropped with ``keep`` and rescaled by hand, @ v."""
    probs = (query @ key.transpose(-1, -2) / math.sqrt(query.shape[-1]) + bias.to(query.dtype)).softmax(-1)
    return (probs * keep / (1 - p)) @ value


def gradients(output: torch.Tensor, inputs) -> list[torch.Tensor]:
    weights = torch.randn(output.shape, generator=torch.Generator().manual_seed(9))
    return list(torch.autograd.grad((output.float() * weights).sum(), inputs))


@pytest.mark.parametrize("chunk", [1, 1 << 18])  # one head per step (2-d oneDNN matmuls), many heads per step
def test_dropout_attention_with_a_fixed_mask_matches_the_textbook_values_and_gradients(chunk, monkeypatch) -> None:
    monkeypatch.setattr(kernels, "_ATTENTION_CHUNK_ELEMENTS", chunk)
    monkeypatch.setattr(kernels, "_ONEDNN_MIN_MACS", 0)
    query, key, value, bias = qkv()
    keep = torch.rand(2, 3, 24, 24, generator=torch.Generator().manual_seed(1)) >= P
    expected = textbook(query, key, value, bias, keep, P)
    got = kernels.dropout_attention(query, key, value, bias, P, keep=keep)
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=1e-5)
    for a, b in zip(gradients(got, (query, key, value)), gradients(expected, (query, key, value)), strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


def test_dropout_attention_in_bf16_follows_the_textbook_in_bf16() -> None:
    query, key, value, bias = qkv(dtype=torch.bfloat16)
    keep = torch.rand(2, 3, 24, 24, generator=torch.Generator().manual_seed(1)) >= P
    reference = [t.detach().float().requires_grad_() for t in (query, key, value)]
    expected = textbook(*reference, bias, keep, P)
    got = kernels.dropout_attention(query, key, value, bias, P, keep=keep)
    assert got.dtype == torch.bfloat16
    torch.testing.assert_close(got.float(), expected, atol=3e-2, rtol=3e-2)
    for a, b in zip(gradients(got, (query, key, value)), gradients(expected, reference), strict=True):
        assert a.dtype == torch.bfloat16
        torch.testing.assert_close(a.float(), b, atol=5e-2, rtol=5e-2)


@pytest.mark.parametrize("block", [2 * 24 * 24, 1 << 20])  # steps of 2 heads (across examples), all at once
def test_blocked_attention_is_the_textbook_attention(block, monkeypatch) -> None:
    monkeypatch.setattr(kernels, "_BLOCK_ELEMENTS", block)
    query, key, value, bias = (t.detach() for t in qkv())
    expected = textbook(query, key, value, bias, torch.ones(2, 3, 24, 24), 0.0)
    torch.testing.assert_close(kernels.blocked_attention(query, key, value, bias), expected, atol=1e-6, rtol=1e-5)
    got = kernels.blocked_attention(*(t.bfloat16() for t in (query, key, value)), bias)
    assert got.dtype == torch.bfloat16
    torch.testing.assert_close(got.float(), expected, atol=3e-2, rtol=3e-2)


def test_bf16_linear_gelu_is_the_exact_gelu_of_the_linear_layer() -> None:
    generator = torch.Generator().manual_seed(0)
    x, weight, bias = (torch.randn(shape, generator=generator) for shape in ((5, 40, 32), (96, 32), (96,)))
    expected = F.gelu(F.linear(x, weight, bias))  # exact erf GELU (tanh's differs by up to 5e-4 here)
    assert not kernels.bf16_linear_gelu_applies(x, weight)  # fp32: the plain layers
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        assert kernels.bf16_linear_gelu_applies(x, weight)
        got = kernels.bf16_linear_gelu(x, weight, bias)
    assert got.dtype == torch.bfloat16 and got.shape == (5, 40, 96)
    torch.testing.assert_close(got.float(), expected, atol=6e-2, rtol=2e-2)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert not kernels.bf16_linear_gelu_applies(x, weight.requires_grad_())  # autograd: the plain layers


def test_dropout_statistics_are_those_of_torch_dropout() -> None:
    """With v = I the context is the dropped, rescaled probabilities themselves: a share P of them is zero
    (independently drawn, binomial), the rest is the probability / (1 - P), and the mean over draws is unbiased."""
    tokens = 64
    query, key, _, _ = qkv(batch=2, heads=4, tokens=tokens, dim=16)
    value = torch.eye(tokens).expand(2, 4, tokens, tokens)
    bias = torch.zeros(2, 1, 1, tokens)
    probs = F.scaled_dot_product_attention(query, key, value, attn_mask=bias).detach()
    torch.manual_seed(0)
    draws = torch.stack([kernels.dropout_attention(query, key, value, bias, P).detach() for _ in range(20)])
    dropped = draws == 0
    share, count = dropped.float().mean().item(), dropped.numel()
    assert abs(share - P) < 5 * math.sqrt(P * (1 - P) / count)  # 5 sigma of a binomial share
    torch.testing.assert_close(draws[~dropped], (probs / (1 - P)).expand_as(draws)[~dropped])
    assert not torch.equal(dropped[0], dropped[1])  # a new mask per call
    mean = draws.mean(0)
    assert (mean - probs).abs().mean() < 0.2 * probs.mean()  # 20 draws: unbiased up to sampling noise
    # the same statistics as F.dropout's on the same probabilities
    reference = torch.stack([F.dropout(probs, P) for _ in range(20)]) == 0
    assert abs(share - reference.float().mean().item()) < 7 * math.sqrt(P * (1 - P) / count)


def test_keep_mask_follows_the_seed_and_the_probability() -> None:
    torch.manual_seed(3)
    first = kernels.keep_mask((4, 1000), 0.75)
    torch.manual_seed(3)
    assert torch.equal(kernels.keep_mask((4, 1000), 0.75), first)
    assert first.dtype == torch.bool and first.shape == (4, 1000)
    assert abs(first.float().mean().item() - 0.75) < 5 * math.sqrt(0.75 * 0.25 / 4000)
    assert kernels.keep_mask((3, 5), 1.0).all()  # odd sizes too
    for dtype in (torch.float32, torch.bfloat16, torch.float16):  # 0.0 / 1.0 in the dtype, the same draws
        torch.manual_seed(3)
        mask = kernels.keep_mask((4, 1000), 0.75, dtype)
        assert mask.dtype == dtype and torch.equal(mask, first.to(dtype))
    with pytest.raises(ValueError, match="dropout_p"):
        kernels.dropout_attention(*qkv(), 0.0)


def tiny_model(attention_dropout: float) -> PIXELForPreTraining:
    torch.manual_seed(0)
    config = PIXELConfig.variant("tiny", image_size=[16, 16 * 16], hidden_dropout_prob=0.0,
                                 attention_probs_dropout_prob=attention_dropout)
    return PIXELForPreTraining(config).train()


def pretraining_batch():
    generator = torch.Generator().manual_seed(0)
    pixel_values = torch.rand(2, 3, 16, 16 * 16, generator=generator)
    attention_mask = torch.ones(2, 16)
    attention_mask[0, 9:] = 0
    return pixel_values, attention_mask, torch.rand(2, 16, generator=generator)


def test_the_model_gives_the_textbook_gradients_with_the_same_dropout_masks(monkeypatch) -> None:
    """Between the paths on a tiny model: the per-call choice (dropout_attention in training on a CPU) and the
    textbook attention given the same keep masks, layer by layer, give the same loss and gradients."""
    model = tiny_model(P)
    pixel_values, attention_mask, noise = pretraining_batch()
    generator = torch.Generator().manual_seed(5)
    masks: list[torch.Tensor] = []

    def recording_mask(shape, keep_probability, dtype):
        masks.append(torch.rand(shape, generator=generator) < keep_probability)
        return masks[-1].to(dtype)

    chosen = []
    real_attention = kernels.attention
    monkeypatch.setattr(kernels, "keep_mask", recording_mask)
    monkeypatch.setattr(layers, "attention", lambda *a: chosen.append(a[0].shape) or real_attention(*a))
    loss = model(pixel_values, attention_mask, noise=noise).loss
    grads = torch.autograd.grad(loss, [p for p in model.parameters() if p.requires_grad])
    assert len(masks) == len(chosen) == model.config.num_hidden_layers + model.config.decoder_num_hidden_layers

    replay = iter(masks)
    monkeypatch.setattr(layers, "attention", lambda q, k, v, bias, p: textbook(q, k, v, bias, next(replay), p))
    expected_loss = model(pixel_values, attention_mask, noise=noise).loss
    expected = torch.autograd.grad(expected_loss, [p for p in model.parameters() if p.requires_grad])
    torch.testing.assert_close(loss, expected_loss, atol=1e-6, rtol=1e-6)
    for a, b in zip(grads, expected, strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-4)


def test_kernel_choice_per_call(monkeypatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(kernels, "sdpa_attention", lambda *a: calls.append("sdpa") or F.scaled_dot_product_attention(
        a[0], a[1], a[2], attn_mask=a[3]))
    monkeypatch.setattr(kernels, "dropout_attention", lambda *a: calls.append("dropout") or a[0])
    query, key, value, bias = qkv()
    kernels.attention(query, key, value, bias, 0.0)
    kernels.attention(query, key, value, bias, P)
    assert calls == ["sdpa", "dropout"]
    calls.clear()
    model, batch = tiny_model(P), pretraining_batch()
    model.eval()(*batch[:2])  # eval: no dropout -> the fused kernel, the numbers of the golden tests
    assert set(calls) == {"sdpa"}
    calls.clear()
    model.train()(*batch[:2])
    assert set(calls) == {"dropout"}
    calls.clear()
    monkeypatch.setattr(kernels, "blocked_attention", lambda *a: calls.append("blocked") or a[0])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        with torch.no_grad():
            model.eval()(*batch[:2])  # bf16 inference on a CPU
        assert set(calls) == {"blocked"}
        calls.clear()
        model.eval()(*batch[:2])  # with autograd: the fused kernel
    assert set(calls) == {"sdpa"}


def test_gradient_checkpointing_redraws_the_same_dropout_masks() -> None:
    plain, checkpointed = tiny_model(P), tiny_model(P)
    checkpointed.gradient_checkpointing_enable()
    pixel_values, attention_mask, noise = pretraining_batch()
    results = []
    for model in (plain, checkpointed):
        torch.manual_seed(11)
        loss = model(pixel_values, attention_mask, noise=noise).loss
        results.append((loss, torch.autograd.grad(loss, [p for p in model.parameters() if p.requires_grad])))
    (loss_a, grads_a), (loss_b, grads_b) = results
    torch.testing.assert_close(loss_a, loss_b, atol=0, rtol=0)
    for a, b in zip(grads_a, grads_b, strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("shape", [(7, 12), (300, 64), (2, 150, 64)])  # torch's kernel below the size limit
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch_values_and_gradients(shape, bias) -> None:
    torch.manual_seed(0)
    layer = kernels.Linear(shape[-1], 80, bias=bias)
    reference = torch.nn.Linear(shape[-1], 80, bias=bias)
    reference.load_state_dict(layer.state_dict())
    x = torch.randn(shape, requires_grad=True)
    got, expected = layer(x), reference(x)
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=1e-5)
    params = [x, *layer.parameters()]
    for a, b in zip(gradients(got, params), gradients(expected, [x, *reference.parameters()]), strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert layer(x).dtype == torch.bfloat16  # autocast's own (oneDNN bf16) kernel


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_dropout_statistics_and_gradient(dtype) -> None:
    layer = kernels.Dropout(P)
    x = torch.ones(64, 256, dtype=dtype, requires_grad=True)
    torch.manual_seed(0)
    out = layer(x)
    dropped = out == 0
    assert out.dtype == dtype
    assert abs(dropped.float().mean().item() - P) < 5 * math.sqrt(P * (1 - P) / out.numel())
    assert torch.equal(out[~dropped].float(), torch.full_like(out[~dropped].float(), 1 / (1 - P)).to(dtype).float())
    out.float().sum().backward()
    assert torch.equal(x.grad, out.detach())  # d out / d x = keep / (1 - p): the output itself for x = 1
    assert torch.equal(layer.eval()(x), x)
    assert torch.equal(kernels.Dropout(1.0)(x), torch.zeros_like(x))


def test_bf16_inference_kernels_give_the_model_output_of_bf16_autocast() -> None:
    """bf16 inference (blocked attention, fused GELU) against fp32 and against bf16 with autograd (SDPA, plain
    GELU): both bf16 paths are as close to fp32 as each other."""
    model, (pixel_values, attention_mask, _) = tiny_model(P).eval(), pretraining_batch()
    with torch.no_grad():
        fp32 = model.vit(pixel_values, attention_mask=attention_mask).last_hidden_state
    with torch.autocast("cpu", dtype=torch.bfloat16):
        with torch.no_grad():
            inference = model.vit(pixel_values, attention_mask=attention_mask).last_hidden_state.float()
        plain = model.vit(pixel_values, attention_mask=attention_mask).last_hidden_state.float().detach()
    assert fp32.abs().mean() > 0.1
    for bf16 in (inference, plain):
        torch.testing.assert_close(bf16, fp32, atol=0.1, rtol=0.05)
    assert (inference - fp32).abs().mean() < 1.5 * (plain - fp32).abs().mean() + 1e-3
