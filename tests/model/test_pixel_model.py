"""PIXELModel / PIXELForPreTraining behaviour on tiny configs, and key lists at pixel-base size."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from pixel.model.config import VARIANTS, PIXELConfig
from pixel.model.kernels import eager_attention
from pixel.model.pixel import (
    PIXELForPreTraining,
    PIXELModel,
    norm_pix_statistics,
    norm_pix_target,
    patchify,
    unpatchify,
)

GOLDEN = Path(__file__).parents[1] / "data" / "golden" / "model"
L = 16  # patches of the tiny strips


def tiny_config(**overrides: object) -> PIXELConfig:
    settings: dict[str, object] = {"image_size": [16, 16 * L], "hidden_dropout_prob": 0.0,
                                   "attention_probs_dropout_prob": 0.0}
    return PIXELConfig.variant("tiny", **{**settings, **overrides})


def strips(batch: int = 2, num_text: tuple[int, ...] = (5, 16)) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    pixel_values = torch.rand(batch, 3, 16, 16 * L, generator=generator)
    attention_mask = torch.zeros(batch, L)
    for b, n in enumerate(num_text):
        attention_mask[b, :n] = 1
    return pixel_values, attention_mask


def golden_keys(name: str) -> list[tuple[str, list[int]]]:
    models = json.loads((GOLDEN / "pixel-base-keys.json").read_text())["models"]
    return [(e["key"], e["shape"]) for e in models[name]["state_dict"]], models[name]


@pytest.mark.parametrize("name", ["PIXELForPreTraining", "PIXELModel"])
def test_pixel_base_keys_shapes_and_counts(name: str) -> None:
    expected, info = golden_keys(name)
    with torch.device("meta"):
        model = (
            PIXELForPreTraining(PIXELConfig()) if name == "PIXELForPreTraining" else PIXELModel(PIXELConfig())
        )
    assert [(k, list(v.shape)) for k, v in model.state_dict().items()] == expected
    assert all(v.dtype == torch.float32 for v in model.state_dict().values())
    assert model.num_parameters() == info["num_params"]
    if name == "PIXELForPreTraining":
        assert model.vit.num_parameters() == info["num_params_encoder"]
        assert sum(p.numel() for p in model.decoder.parameters()) == info["num_params_decoder"]
        # frozen: encoder and decoder sin-cos tables (spec 2.2: 407,040 + 271,360)
        assert model.num_parameters() - model.num_parameters(trainable_only=True) == 407_040 + 271_360


def test_unmasked_encoder_shapes_and_pooler() -> None:
    model = PIXELModel(tiny_config(), add_pooling_layer=True).eval()
    pixel_values, attention_mask = strips()
    out = model(pixel_values, attention_mask, output_hidden_states=True, output_attentions=True)
    assert out.last_hidden_state.shape == (2, 1 + L, 32)
    assert out.pooler_output.shape == (2, 32)
    torch.testing.assert_close(out.pooler_output, torch.tanh(model.pooler.dense(out.last_hidden_state[:, 0])))
    assert out.mask is None and out.ids_restore is None
    assert len(out.hidden_states) == 3 and len(out.attentions) == 2
    assert out.attentions[0].shape == (2, 4, 1 + L, 1 + L)
    # Padding patches are masked as keys: zero probability, rows sum to one.
    probs = out.attentions[0]
    assert torch.all(probs[0, :, :, 1 + 5 :] == 0)
    torch.testing.assert_close(probs.sum(-1), torch.ones(2, 4, 1 + L))
    # The eager path (used for attentions) and SDPA compute the same thing.
    fast = model(pixel_values, attention_mask).last_hidden_state
    torch.testing.assert_close(fast, out.last_hidden_state, atol=1e-5, rtol=0)
    assert out[0] is out.last_hidden_state and out["pooler_output"] is out.pooler_output


def test_padding_content_does_not_change_text_outputs() -> None:
    model = PIXELModel(tiny_config()).eval()
    pixel_values, attention_mask = strips()
    changed = pixel_values.clone()
    changed[0, :, :, 16 * 5 :] = 0.0  # only padding patches of example 0
    with torch.no_grad():
        a = model(pixel_values, attention_mask).last_hidden_state
        b = model(changed, attention_mask).last_hidden_state
    torch.testing.assert_close(a[0, : 1 + 5], b[0, : 1 + 5], atol=1e-6, rtol=0)
    assert not torch.allclose(a[0, 1 + 5 :], b[0, 1 + 5 :])


def test_attention_mask_none_means_all_ones() -> None:
    model = PIXELForPreTraining(tiny_config()).eval()
    pixel_values, _ = strips()
    noise = torch.rand(2, L)
    with torch.no_grad():
        a = model(pixel_values, noise=noise)
        b = model(pixel_values, torch.ones(2, L), noise=noise)
    torch.testing.assert_close(a.loss, b.loss)
    assert torch.equal(a.attention_mask, torch.ones(2, L))
    loss, logits, mask, ids_restore = a.to_tuple()[:4]  # the original's tuple order
    assert loss is a.loss and logits is a.logits and mask is a.mask and ids_restore is a.ids_restore


def test_random_masking_always_masks_a_text_patch() -> None:
    model = PIXELForPreTraining(tiny_config()).eval()
    pixel_values, _ = strips()
    attention_mask = torch.zeros(2, L)
    attention_mask[:, 0] = 1  # one text patch only
    for seed in range(5):
        torch.manual_seed(seed)
        with torch.no_grad():
            out = model(pixel_values, attention_mask)
        assert torch.all(out.mask[:, 0] == 1)
        assert torch.all(out.mask.sum(1) == L - int(L * 0.75))
        assert torch.isfinite(out.loss)


def test_patch_mask_decides_what_is_removed() -> None:
    model = PIXELForPreTraining(tiny_config()).eval()
    pixel_values, attention_mask = strips()
    patch_mask = torch.zeros(2, L)
    patch_mask[0, [1, 2, 3, 9]] = 1
    patch_mask[1, [0, 5, 6, 15]] = 1
    with torch.no_grad():
        out = model(pixel_values, attention_mask, patch_mask)
    assert torch.equal(out.mask, patch_mask)  # 4 = 16 - int(16 * 0.75) removed
    assert out.logits.shape == (2, L, 768)
    kept = model.vit(pixel_values, attention_mask, patch_mask=patch_mask).last_hidden_state
    assert kept.shape == (2, 1 + 12, 32)


def test_loss_by_hand() -> None:
    # Per-patch MSE against targets normalised with the unbiased variance, over masked non-padding patches.
    model = PIXELForPreTraining(tiny_config())
    pixel_values, attention_mask = strips()
    logits = torch.randn(2, L, 768, generator=torch.Generator().manual_seed(1))
    mask = torch.zeros(2, L)
    mask[0, [0, 4, 7]] = 1  # patch 7 of example 0 is padding: ignored
    mask[1, [3]] = 1
    total, count = 0.0, 0
    for b, p in [(0, 0), (0, 4), (1, 3)]:
        patch = pixel_values[b, :, :, 16 * p : 16 * (p + 1)].permute(1, 2, 0).reshape(-1).double()
        target = (patch - patch.mean()) / torch.sqrt(patch.var(unbiased=True) + 1e-6)
        total += ((logits[b, p].double() - target) ** 2).mean().item()
        count += 1
    loss = model.forward_loss(pixel_values, logits, mask, attention_mask)
    assert loss.item() == pytest.approx(total / count, abs=1e-5)


def test_patchify_order_and_round_trip() -> None:
    # Value of each pixel encodes (channel, row, column); patch p holds (row, col, channel) with channel fastest.
    c, y, x = torch.meshgrid(torch.arange(3), torch.arange(16), torch.arange(16 * 4), indexing="ij")
    pixel_values = (c * 100000 + y * 1000 + x).float()[None]
    patches = patchify(pixel_values)
    assert patches.shape == (1, 4, 768)
    patch, row, col, channel = 2, 5, 7, 1
    assert (
        patches[0, patch, (row * 16 + col) * 3 + channel].item()
        == channel * 100000 + row * 1000 + 16 * patch + col
    )
    assert torch.equal(unpatchify(patches), pixel_values)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_variant_pretrains_on_a_short_strip(variant: str) -> None:
    torch.manual_seed(0)
    model = PIXELForPreTraining(PIXELConfig.variant(variant, image_size=[16, 16 * L]))
    pixel_values, attention_mask = strips()
    output = model(pixel_values, attention_mask)
    assert output.logits.shape == (2, L, 768) and torch.isfinite(output.loss)
    output.loss.backward()
    assert model.vit.embeddings.patch_embeddings.projection.weight.grad is not None


def test_pretraining_forward_takes_the_mask_ratio_of_the_call() -> None:
    model = PIXELForPreTraining(tiny_config()).eval()
    pixel_values, attention_mask = strips()
    half = model(pixel_values, attention_mask, mask_ratio=0.5)
    assert half.mask.sum(dim=1).tolist() == [L - int(L * 0.5)] * 2
    assert model(pixel_values, attention_mask).mask.sum(dim=1).tolist() == [L - int(L * 0.75)] * 2
    assert model.config.mask_ratio == 0.25


def test_patchify_order_is_row_column_channel() -> None:
    strip = torch.zeros(1, 3, 16, 32, dtype=torch.float64)
    strip[0, 1, 2, 16 + 5] = 1.0  # patch 1, row 2, column 5, channel 1
    patches = patchify(strip)
    assert patches.shape == (1, 2, 768)
    assert torch.nonzero(patches[0, 1]).flatten().tolist() == [(2 * 16 + 5) * 3 + 1]
    assert torch.equal(unpatchify(patches), strip)


def test_norm_pix_target_of_a_known_patch_and_its_inverse() -> None:
    patch = torch.zeros(1, 768, dtype=torch.float64)
    patch[0, 384:] = 1.0  # lower half (rows 8..15) white: mean .5, unbiased var 768 * .25 / 767
    std = math.sqrt(768 * 0.25 / 767 + 1e-6)
    normalised = norm_pix_target(patch)
    torch.testing.assert_close(normalised[0, :384], torch.full((384,), -0.5 / std, dtype=torch.float64),
                               rtol=1e-12, atol=0)
    torch.testing.assert_close(normalised[0, 384:], torch.full((384,), 0.5 / std, dtype=torch.float64),
                               rtol=1e-12, atol=0)
    mean, scale = norm_pix_statistics(patch)
    torch.testing.assert_close(normalised * scale + mean, patch, rtol=0, atol=1e-12)


@pytest.mark.parametrize("model_class", [PIXELModel, PIXELForPreTraining])
def test_flops_per_example_counts_every_matmul_of_the_forward(model_class) -> None:
    from torch.utils.flop_counter import FlopCounterMode

    model = model_class(tiny_config()).eval()
    pixel_values, _ = strips(batch=1, num_text=(16,))
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(pixel_values, output_attentions=True)  # the eager attention: its matmuls are counted too
    assert model.flops_per_example(training=False) == counter.get_total_flops()
    assert model.flops_per_example() == 3 * counter.get_total_flops()


def test_backward_reaches_every_trainable_parameter() -> None:
    model = PIXELForPreTraining(tiny_config())
    pixel_values, attention_mask = strips()
    model(pixel_values, attention_mask).loss.backward()
    frozen = {"vit.embeddings.position_embeddings", "decoder.decoder_pos_embed"}
    for name, param in model.named_parameters():
        if name in frozen:
            assert not param.requires_grad and param.grad is None, name
        else:
            assert (
                param.grad is not None and torch.isfinite(param.grad).all() and param.grad.abs().sum() > 0
            ), name
    encoder = PIXELModel(tiny_config())
    encoder(pixel_values, attention_mask).last_hidden_state.sum().backward()
    assert encoder.embeddings.position_embeddings.grad is not None  # trainable for fine-tuning


def test_gradient_checkpointing_gives_the_same_gradients() -> None:
    torch.manual_seed(0)
    plain = PIXELForPreTraining(tiny_config()).train()
    checkpointed = PIXELForPreTraining(tiny_config()).train()
    checkpointed.load_state_dict(plain.state_dict())
    checkpointed.gradient_checkpointing_enable()
    pixel_values, attention_mask = strips()
    noise = torch.rand(2, L)
    plain(pixel_values, attention_mask, noise=noise).loss.backward()
    checkpointed(pixel_values, attention_mask, noise=noise).loss.backward()
    for (name, a), b in zip(plain.named_parameters(), checkpointed.parameters(), strict=True):
        if a.requires_grad:
            torch.testing.assert_close(a.grad, b.grad, atol=1e-6, rtol=1e-5, msg=name)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_low_precision_autocast_runs_and_is_close(dtype: torch.dtype) -> None:
    model = PIXELForPreTraining(tiny_config()).eval()
    pixel_values, attention_mask = strips()
    noise = torch.rand(2, L)
    with torch.no_grad():
        reference = model(pixel_values, attention_mask, noise=noise)
        with torch.autocast("cpu", dtype=dtype):
            low = model(pixel_values, attention_mask, noise=noise)
    assert low.loss.dtype == torch.float32 and torch.isfinite(low.loss)
    assert torch.equal(low.mask, reference.mask)
    assert low.loss.item() == pytest.approx(reference.loss.item(), rel=2e-2)
    torch.testing.assert_close(low.logits.float(), reference.logits, atol=0.1, rtol=0.05)
    with torch.autocast("cpu", dtype=dtype):
        loss = model.train()(pixel_values, attention_mask, noise=noise).loss
    loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.requires_grad)


def test_eager_attention_matches_sdpa() -> None:
    q, k, v = (torch.randn(2, 3, 5, 8, generator=torch.Generator().manual_seed(i)) for i in range(3))
    bias = torch.zeros(2, 1, 1, 5)
    bias[0, ..., 3:] = -10000.0
    context, probs = eager_attention(q, k, v, bias, 0.0)
    expected = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=bias)
    torch.testing.assert_close(context, expected, atol=1e-6, rtol=1e-5)
    assert torch.all(probs[0, ..., 3:] == 0)


@pytest.mark.slow
def test_torch_compile_matches_eager() -> None:
    model = PIXELModel(tiny_config(num_hidden_layers=1)).eval()
    pixel_values, attention_mask = strips()
    compiled = torch.compile(model)
    with torch.no_grad():
        expected = model(pixel_values, attention_mask).last_hidden_state
        got = compiled(pixel_values, attention_mask).last_hidden_state
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_bad_inputs_are_clear_errors() -> None:
    model = PIXELForPreTraining(tiny_config()).eval()
    pixel_values, attention_mask = strips()
    with pytest.raises(ValueError, match=r"pixel_values has shape \[2, 3, 16, 512\].*\[batch, 3, 16, 256\]"):
        model(torch.rand(2, 3, 16, 512), attention_mask)
    with pytest.raises(ValueError, match="pixel_values has shape"):
        model(torch.rand(3, 16, 256))
    with pytest.raises(TypeError, match="float"):
        model((pixel_values * 255).to(torch.uint8), attention_mask)
    empty = attention_mask.clone()
    empty[1] = 0
    with pytest.raises(ValueError, match=r"attention_mask rows \[1\]"):
        model(pixel_values, empty)
    halved = attention_mask.clone()
    halved[0] *= 0.5
    with pytest.raises(ValueError, match=r"attention_mask rows \[0\]"):
        model.vit(pixel_values, halved)
    with pytest.raises(ValueError, match=r"attention_mask has shape \[2, 15\]"):
        model(pixel_values, attention_mask[:, :15])
    with pytest.raises(ValueError, match="patch_mask has shape"):
        model(pixel_values, attention_mask, torch.zeros(2, 15))
    with pytest.raises(ValueError, match="masks no patch"):
        model.vit(pixel_values, attention_mask, patch_mask=torch.zeros(2, L), mask_ratio=0.0)
    with pytest.raises(ValueError, match="mask_ratio must be in"):
        model.vit(pixel_values, attention_mask, mask_ratio=1.0)
    with pytest.raises(ValueError, match="multiple of the number of heads"):
        PIXELModel(tiny_config(num_attention_heads=5))
    with pytest.raises(ValueError, match="hidden_act"):
        PIXELModel(tiny_config(hidden_act="nope"))
    with pytest.raises(TypeError, match="PIXELConfig"):
        PIXELModel({"hidden_size": 32})  # type: ignore[arg-type]


def test_pixel_values_out_of_range_or_nan_are_refused() -> None:
    # 0-255 floats gave a loss of 1.25 and NaN inputs a nan loss, silently.
    model = PIXELForPreTraining(tiny_config()).eval()
    pixel_values, attention_mask = strips()
    with pytest.raises(ValueError, match=r"pixel_values: expected \[0, 1\], got values in \[0\.\d+, 2\d\d\.\d+\]"):
        model(pixel_values * 255, attention_mask)
    broken = pixel_values.clone()
    broken[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match=r"expected \[0, 1\], got values in \[nan, nan\]"):
        model.vit(broken, attention_mask)
    with pytest.raises(ValueError, match=r"expected \[0, 1\]"):
        model(pixel_values - 0.5, attention_mask)
    model.vit.embeddings.check_pixel_range = False  # the documented way out (benchmarks)
    assert torch.isfinite(model(pixel_values * 255, attention_mask).loss)


def test_pretraining_from_scratch_initialises_the_patch_embedding_like_the_original_run():
    """Xavier-uniform kernel on its [D, C*p*p] view and PyTorch's default conv bias (the original pretraining
    script swapped in fresh embeddings after the N(0, initializer_range) init); the other layers keep it."""
    torch.manual_seed(0)
    config = tiny_config(hidden_size=64, initializer_range=0.02)
    model = PIXELForPreTraining(config)
    projection = model.vit.embeddings.patch_embeddings.projection
    fan_in = 3 * 16 * 16
    xavier_bound = (6 / (64 + fan_in)) ** 0.5
    assert projection.weight.abs().max() <= xavier_bound
    assert abs(projection.weight.std().item() - xavier_bound / 3**0.5) < 0.05 * xavier_bound
    assert 0 < projection.bias.abs().max() <= 1 / fan_in**0.5
    assert abs(model.decoder.decoder_embed.weight.std().item() - 0.02) < 0.002
