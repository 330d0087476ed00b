"""PIXEL encoder (`PIXELModel`) and masked-autoencoder pretraining model (`PIXELForPreTraining`).

Same computation and state-dict keys as the original (a ViT-MAE over a 16 x 16L strip of rendered text).
Shapes: B batch, L patches (529 for pixel-base), K kept patches, D hidden size, P = p*p*C values per patch.
Inputs: pixel_values [B, 3, 16, 16*L] float in [0, 1]; attention_mask [B, L] with ones on the text patches + 1.
"""

from __future__ import annotations

import os
import re
from typing import Any, ClassVar

import torch
from torch import nn

from pixel.model import hub
from pixel.model.config import PIXELConfig
from pixel.model.embeddings import (
    PIXELEmbeddings,
    controlled_masking_noise,
    num_kept,
    random_masking_noise,
    shuffle_and_keep,
)
from pixel.model.kernels import Linear
from pixel.model.layers import PIXELLayer, attention_bias, run_layers, sincos_position_table
from pixel.model.outputs import PIXELDecoderOutput, PIXELForPreTrainingOutput, PIXELModelOutput


def patchify(pixel_values: torch.Tensor, patch_size: int = 16) -> torch.Tensor:
    """[B, C, H, W] -> [B, (H/p)(W/p), p*p*C]; patches row-major, values within a patch in (row, col, channel) order."""
    batch, channels, height, width = pixel_values.shape
    p = patch_size
    if height % p or width % p:
        raise ValueError(f"image of size {height}x{width} is not a whole number of {p}x{p} patches")
    grid_h, grid_w = height // p, width // p
    x = pixel_values.reshape(batch, channels, grid_h, p, grid_w, p)
    x = torch.einsum("nchpwq->nhwpqc", x)
    return x.reshape(batch, grid_h * grid_w, p * p * channels)


def unpatchify(patches: torch.Tensor, patch_size: int = 16, num_channels: int = 3) -> torch.Tensor:
    """Inverse of `patchify` for a one-patch-high strip: [B, L, p*p*C] -> [B, C, p, p*L]."""
    batch, length, values = patches.shape
    p = patch_size
    if values != p * p * num_channels:
        raise ValueError(
            f"patches have {values} values, expected {p}*{p}*{num_channels} = {p * p * num_channels}"
        )
    x = patches.reshape(batch, 1, length, p, p, num_channels)
    x = torch.einsum("nhwpqc->nchpwq", x)
    return x.reshape(batch, num_channels, p, length * p)


# Added to each patch's variance in the norm-pix target (the original's value); the loss, the pictures and the
# zero-prediction baseline all standardise with it.
NORM_PIX_EPS = 1e-6


def norm_pix_statistics(patches: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each patch's mean and sqrt(unbiased variance + NORM_PIX_EPS): [..., L, P] -> two [..., L, 1]."""
    mean = patches.mean(dim=-1, keepdim=True)
    var = patches.var(dim=-1, keepdim=True)
    return mean, (var + NORM_PIX_EPS) ** 0.5


def norm_pix_target(patches: torch.Tensor) -> torch.Tensor:
    """The norm-pix loss target [..., L, P]: each patch standardised by its own statistics,
    (t - mean) / sqrt(var + 1e-6) (`norm_pix_statistics`); a blank patch becomes all zeros."""
    mean, std = norm_pix_statistics(patches)
    return (patches - mean) / std


def layer_flops(tokens: int, width: int, intermediate: int) -> float:
    """Forward matmul FLOPs (2 per multiply-add) of one transformer layer over ``tokens`` tokens: the query,
    key, value and output projections, the attention scores and weighted values, the MLP."""
    projections = 4 * 2 * tokens * width * width
    attention = 2 * 2 * tokens * tokens * width
    return projections + attention + 2 * 2 * tokens * width * intermediate


def prepare_attention_mask(
    attention_mask: torch.Tensor | None, batch_size: int, num_patches: int, device: torch.device
) -> torch.Tensor:
    """None -> ones; otherwise check [B, L] of 0/1 with at least one 1 per row. Returns float32 [B, L]."""
    if attention_mask is None:
        return torch.ones(batch_size, num_patches, device=device)
    if tuple(attention_mask.shape) != (batch_size, num_patches):
        raise ValueError(
            f"attention_mask has shape {list(attention_mask.shape)}, expected [batch, num_patches] = "
            f"[{batch_size}, {num_patches}] (ones on the text patches + 1, zeros on padding)"
        )
    attention_mask = attention_mask.to(device=device, dtype=torch.float32)
    if not torch.compiler.is_compiling():
        invalid = ((attention_mask != 0) & (attention_mask != 1)).any(dim=1) | (
            attention_mask.sum(dim=1) == 0
        )
        if bool(invalid.any()):
            rows = invalid.nonzero().flatten().tolist()
            raise ValueError(
                f"attention_mask rows {rows} are invalid: each row must hold only 0/1 and at least one 1 (the "
                f"text patches + the end-of-sequence patch); an empty text still renders one patch"
            )
    return attention_mask


class PIXELPreTrainedModel(nn.Module):
    """Base class: holds `config`, initialises weights like the original, loads and saves checkpoints."""

    base_model_prefix: ClassVar[str] = "vit"
    # Regexes of checkpoint keys that are dropped silently (e.g. the original QA head's unused `classifier`).
    _keys_to_ignore_on_load: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: PIXELConfig) -> None:
        super().__init__()
        if not isinstance(config, PIXELConfig):
            raise TypeError(f"config must be a PIXELConfig, got {type(config).__name__}")
        self.config = config

    def _init_weights(self, module: nn.Module) -> None:
        """Linear/Conv2d ~ N(0, initializer_range) with zero bias; LayerNorm 1/0; tokens and sin-cos tables."""
        std = self.config.initializer_range
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            nn.init.normal_(module.weight, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, (PIXELEmbeddings, PIXELDecoder)):
            module.reset_parameters()

    def post_init(self) -> None:
        self.apply(self._init_weights)

    def gradient_checkpointing_enable(self) -> None:
        """Recompute each transformer layer in the backward pass (less memory, ~30 % more compute)."""
        for module in self.modules():
            if hasattr(module, "gradient_checkpointing"):
                module.gradient_checkpointing = True

    def gradient_checkpointing_disable(self) -> None:
        for module in self.modules():
            if hasattr(module, "gradient_checkpointing"):
                module.gradient_checkpointing = False

    def num_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    def flops_per_example(self, training: bool = True) -> float:
        """Matmul FLOPs of one strip (as nanoGPT's estimate_mfu counts them): the patch embedding and the
        encoder layers over CLS + every patch; x3 with the backward pass (``training``). The trainer's MFU,
        the benchmarks' FLOP rates. Task heads' own layers are left out (well under 1 % of the encoder)."""
        config = self.config
        forward = self._embedding_flops() + config.num_hidden_layers * layer_flops(
            config.num_patches + 1, config.hidden_size, config.intermediate_size)
        return float(forward * (3 if training else 1))

    def _embedding_flops(self) -> float:
        config = self.config
        return 2 * config.num_patches * config.patch_size**2 * config.num_channels * config.hidden_size

    @classmethod
    def from_pretrained(
        cls, path_or_hub_id: str | os.PathLike[str], revision: str | None = None, **kwargs: Any
    ) -> Any:
        """Load config.json + weights from a folder or Hub repo (see `pixel.model.hub.load_pretrained`)."""
        return hub.load_pretrained(cls, path_or_hub_id, revision=revision, **kwargs)

    def save_pretrained(self, save_directory: str | os.PathLike[str]) -> None:
        """Write config.json + model.safetensors into `save_directory` (atomically, file by file)."""
        hub.save_pretrained(self, save_directory)

    @classmethod
    def ignores_key(cls, key: str) -> bool:
        return any(re.search(pattern, key) for pattern in cls._keys_to_ignore_on_load)


class PIXELEncoder(nn.Module):
    """The stack of transformer layers (`encoder.layer.{i}`)."""

    def __init__(self, config: PIXELConfig) -> None:
        super().__init__()
        self.layer = nn.ModuleList(
            PIXELLayer(
                config.hidden_size,
                config.num_attention_heads,
                config.intermediate_size,
                config.hidden_act,
                config.hidden_dropout_prob,
                config.attention_probs_dropout_prob,
                config.layer_norm_eps,
                config.qkv_bias,
            )
            for _ in range(config.num_hidden_layers)
        )
        self.gradient_checkpointing = False

    def forward(
        self, hidden: torch.Tensor, bias: torch.Tensor, output_hidden_states: bool, output_attentions: bool
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...] | None, tuple[torch.Tensor, ...] | None]:
        return run_layers(
            self.layer,
            hidden,
            bias,
            gradient_checkpointing=self.gradient_checkpointing and self.training,
            output_hidden_states=output_hidden_states,
            output_attentions=output_attentions,
        )


class PIXELPooler(nn.Module):
    """tanh(dense(CLS output)): [B, T, D] -> [B, D] (the ViT pooler of the fine-tuning heads)."""

    def __init__(self, config: PIXELConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.activation = nn.Tanh()

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.activation(self.dense(hidden[:, 0]))


class PIXELModel(PIXELPreTrainedModel):
    """The PIXEL encoder.

    `add_pooling_layer` adds `pooler.dense` (tanh on the CLS output); None: config.add_pooling_layer if set
    (written by `save_pretrained` of a PIXELModel), else False. `embedding_dropout` applies
    Dropout(hidden_dropout_prob) after the embeddings as the original fine-tuning (ViT) encoder does; the
    pretraining encoder has none. Position embeddings are trainable here (fine-tuning); PIXELForPreTraining
    freezes them.
    """

    def __init__(
        self, config: PIXELConfig, add_pooling_layer: bool | None = None, embedding_dropout: bool = True
    ) -> None:
        super().__init__(config)
        if add_pooling_layer is None:  # a saved PIXELModel records whether it had a pooler
            add_pooling_layer = bool(getattr(config, "add_pooling_layer", False))
        self.embeddings = PIXELEmbeddings(config, dropout=embedding_dropout)
        self.encoder = PIXELEncoder(config)
        self.layernorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.pooler = PIXELPooler(config) if add_pooling_layer else None
        self.post_init()

    @property
    def num_patches(self) -> int:
        """The longest strip (in patches) the model reads; shorter ones use the first position rows."""
        return self.embeddings.max_patches

    def save_pretrained(self, save_directory: str | os.PathLike[str]) -> None:
        self.config.add_pooling_layer = self.pooler is not None
        super().save_pretrained(save_directory)

    def forward(
        self,
        pixel_values: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        patch_mask: torch.Tensor | None = None,
        mask_ratio: float | None = None,
        noise: torch.Tensor | None = None,
        output_hidden_states: bool = False,
        output_attentions: bool = False,
    ) -> PIXELModelOutput:
        """Encode strips.

        pixel_values [B, C, 16, 16*L] float in [0, 1], L <= num_patches (a shorter strip uses the first 1 + L
        position rows); attention_mask [B, L] (None -> ones).
        No patch_mask and mask_ratio None or 0: nothing is masked or shuffled -> last_hidden_state [B, 1+L, D]
        (CLS, then the patches in order). patch_mask [B, L] (1 = mask, e.g. span masking): the original's
        controlled masking with `mask_ratio` (None -> config.mask_ratio). mask_ratio > 0 without patch_mask: the
        original's random masking (at least one text patch masked). Masking keeps K = int(L * (1 - mask_ratio))
        patches -> last_hidden_state [B, 1+K, D], mask [B, L], ids_restore [B, L].
        `noise` [B, L] in [0, 1) replaces the uniform draw of the masking (reproducibility, tests).
        """
        batch, length = pixel_values.shape[0], self.embeddings.check_pixel_values(pixel_values)
        attention_mask = prepare_attention_mask(attention_mask, batch, length, pixel_values.device)
        patches = self.embeddings(pixel_values)

        mask = ids_restore = None
        kept_attention = attention_mask
        if patch_mask is not None or mask_ratio:
            ratio = self.config.mask_ratio if mask_ratio is None else mask_ratio
            len_keep = num_kept(length, ratio)
            if len_keep >= length:
                raise ValueError(
                    f"mask_ratio {ratio} masks no patch of {length}: use a larger ratio, or no patch_mask and "
                    f"mask_ratio 0 for unmasked encoding"
                )
            if noise is not None and tuple(noise.shape) != (batch, length):
                raise ValueError(f"noise has shape {list(noise.shape)}, expected [{batch}, {length}]")
            if patch_mask is None:
                order = random_masking_noise(attention_mask, noise)
            else:
                if tuple(patch_mask.shape) != (batch, length):
                    raise ValueError(
                        f"patch_mask has shape {list(patch_mask.shape)}, expected [batch, num_patches] = "
                        f"[{batch}, {length}] (1 = mask the patch)"
                    )
                order = controlled_masking_noise(patch_mask.to(attention_mask.device), noise)
            patches, mask, ids_restore, ids_keep = shuffle_and_keep(patches, order, len_keep)
            kept_attention = torch.gather(attention_mask, 1, ids_keep)

        hidden = torch.cat([self.embeddings.cls_embedding(batch).to(patches.dtype), patches], dim=1)
        hidden = self.embeddings.dropout(hidden)
        cls_attention = torch.ones(batch, 1, device=hidden.device, dtype=kept_attention.dtype)
        bias = attention_bias(torch.cat([cls_attention, kept_attention], dim=1), hidden.dtype)
        hidden, all_hidden, attentions = self.encoder(hidden, bias, output_hidden_states, output_attentions)
        last_hidden_state = self.layernorm(hidden)
        return PIXELModelOutput(
            last_hidden_state=last_hidden_state,
            pooler_output=self.pooler(last_hidden_state) if self.pooler is not None else None,
            mask=mask,
            ids_restore=ids_restore,
            hidden_states=all_hidden,
            attentions=attentions,
        )


class PIXELDecoder(nn.Module):
    """MAE decoder: projects the kept tokens, fills removed patches with `mask_token`, restores patch order,
    adds fixed sin-cos positions, runs its layers and predicts each patch's p*p*C pixel values."""

    def __init__(self, config: PIXELConfig) -> None:
        super().__init__()
        self.config = config
        dim = config.decoder_hidden_size
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.decoder_pos_embed = nn.Parameter(
            torch.zeros(1, config.num_patches + 1, dim), requires_grad=False
        )
        self.decoder_embed = Linear(config.hidden_size, dim)
        self.decoder_layers = nn.ModuleList(
            PIXELLayer(
                dim,
                config.decoder_num_attention_heads,
                config.decoder_intermediate_size,
                config.hidden_act,
                config.hidden_dropout_prob,
                config.attention_probs_dropout_prob,
                config.layer_norm_eps,
                config.qkv_bias,
            )
            for _ in range(config.decoder_num_hidden_layers)
        )
        self.decoder_norm = nn.LayerNorm(
            dim, eps=1e-5
        )  # torch's default eps, unlike the rest (as the original)
        self.decoder_pred = Linear(dim, config.patch_size**2 * config.num_channels)
        self.gradient_checkpointing = False

    def reset_parameters(self) -> None:
        nn.init.normal_(self.mask_token, std=self.config.initializer_range)
        table = sincos_position_table(self.config.decoder_hidden_size, self.decoder_pos_embed.shape[1] - 1)
        with torch.no_grad():
            self.decoder_pos_embed.copy_(table.to(self.decoder_pos_embed.device))

    def forward(
        self,
        hidden: torch.Tensor,
        ids_restore: torch.Tensor,
        attention_mask: torch.Tensor,
        output_hidden_states: bool = False,
        output_attentions: bool = False,
    ) -> PIXELDecoderOutput:
        """hidden [B, 1+K, D] (encoder output, CLS first), ids_restore [B, L], attention_mask [B, L] -> logits [B, L, P]."""
        x = self.decoder_embed(hidden)
        batch, length = ids_restore.shape
        mask_tokens = self.mask_token.to(x.dtype).expand(batch, length + 1 - x.shape[1], -1)
        patches = torch.cat([x[:, 1:], mask_tokens], dim=1)
        patches = torch.gather(patches, 1, ids_restore[..., None].expand(-1, -1, x.shape[2]))
        x = torch.cat([x[:, :1], patches], dim=1) + self.decoder_pos_embed[:, : length + 1]
        cls_attention = torch.ones(batch, 1, device=x.device, dtype=attention_mask.dtype)
        bias = attention_bias(torch.cat([cls_attention, attention_mask], dim=1), x.dtype)
        x, all_hidden, attentions = run_layers(
            self.decoder_layers,
            x,
            bias,
            gradient_checkpointing=self.gradient_checkpointing and self.training,
            output_hidden_states=output_hidden_states,
            output_attentions=output_attentions,
        )
        logits = self.decoder_pred(self.decoder_norm(x))[:, 1:]
        return PIXELDecoderOutput(logits=logits, hidden_states=all_hidden, attentions=attentions)


class PIXELForPreTraining(PIXELPreTrainedModel):
    """Masked-autoencoder pretraining: encoder (`vit`, frozen sin-cos positions, no embedding dropout) on the
    kept patches, decoder (`decoder`) predicting every patch, norm-pix MSE on masked text patches."""

    def __init__(self, config: PIXELConfig) -> None:
        super().__init__(config)
        self.vit = PIXELModel(config, add_pooling_layer=False, embedding_dropout=False)
        self.decoder = PIXELDecoder(config)
        self.post_init()
        self.vit.embeddings.patch_embeddings.reset_parameters()
        self.vit.embeddings.position_embeddings.requires_grad_(False)

    def flops_per_example(self, training: bool = True) -> float:
        """Matmul FLOPs of one strip: the patch embedding, the encoder over CLS + the K kept patches
        (config.mask_ratio), the decoder with its pixel prediction over CLS + every patch; x3 with the
        backward pass (``training``)."""
        config = self.config
        length, decoder = config.num_patches, config.decoder_hidden_size
        kept = num_kept(length, config.mask_ratio) + 1
        forward = (
            self._embedding_flops()
            + config.num_hidden_layers * layer_flops(kept, config.hidden_size, config.intermediate_size)
            + 2 * kept * config.hidden_size * decoder
            + config.decoder_num_hidden_layers * layer_flops(length + 1, decoder, config.decoder_intermediate_size)
            + 2 * (length + 1) * decoder * config.patch_size**2 * config.num_channels
        )
        return float(forward * (3 if training else 1))

    def patchify(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """[B, C, p, p*L] -> [B, L, p*p*C]."""
        return patchify(pixel_values, self.config.patch_size)

    def unpatchify(self, patches: torch.Tensor) -> torch.Tensor:
        """[B, L, p*p*C] -> [B, C, p, p*L]."""
        return unpatchify(patches, self.config.patch_size, self.config.num_channels)

    def forward_encoder(
        self,
        pixel_values: torch.Tensor,
        attention_mask: torch.Tensor,
        patch_mask: torch.Tensor | None = None,
        noise: torch.Tensor | None = None,
        output_hidden_states: bool = False,
        output_attentions: bool = False,
        mask_ratio: float | None = None,
    ) -> PIXELModelOutput:
        """Encode the kept patches: span masking with `patch_mask`, else random masking, removing
        L - int(L * (1 - mask_ratio)) patches (None -> config.mask_ratio)."""
        ratio = self.config.mask_ratio if mask_ratio is None else mask_ratio
        if not ratio:
            raise ValueError(
                "PIXELForPreTraining reconstructs masked patches and needs mask_ratio > 0, but the config's is 0 "
                "(PIXEL-M4's config default): pass mask_ratio=0.25 or set model.config.mask_ratio"
            )
        return self.vit(
            pixel_values,
            attention_mask,
            patch_mask=patch_mask,
            mask_ratio=ratio,
            noise=noise,
            output_hidden_states=output_hidden_states,
            output_attentions=output_attentions,
        )

    def forward_decoder(
        self,
        hidden: torch.Tensor,
        ids_restore: torch.Tensor,
        attention_mask: torch.Tensor,
        output_hidden_states: bool = False,
        output_attentions: bool = False,
    ) -> PIXELDecoderOutput:
        return self.decoder(hidden, ids_restore, attention_mask, output_hidden_states, output_attentions)

    def forward_loss(
        self,
        pixel_values: torch.Tensor,
        logits: torch.Tensor,
        mask: torch.Tensor,
        attention_mask: torch.Tensor,
    ) -> torch.Tensor:
        """Mean per-patch MSE over patches with mask 1 and attention_mask 1 (computed in float32).

        With norm_pix_loss each target patch is standardised by its own mean and unbiased variance
        (`norm_pix_target`).
        """
        target = self.patchify(pixel_values.float())
        if self.config.norm_pix_loss:
            target = norm_pix_target(target)
        per_patch = (logits.float() - target).pow(2).mean(dim=-1)
        weight = mask.float() * attention_mask.float()
        return (per_patch * weight).sum() / weight.sum()

    def forward(
        self,
        pixel_values: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        patch_mask: torch.Tensor | None = None,
        noise: torch.Tensor | None = None,
        output_hidden_states: bool = False,
        output_attentions: bool = False,
        mask_ratio: float | None = None,
    ) -> PIXELForPreTrainingOutput:
        """pixel_values [B, C, 16, 16*L] in [0, 1], attention_mask [B, L] (None -> ones), patch_mask [B, L] or None
        (random masking), mask_ratio (None -> config.mask_ratio) -> loss, logits [B, L, P], mask, ids_restore,
        attention_mask."""
        if attention_mask is None:
            length = self.vit.embeddings.check_pixel_values(pixel_values)
            attention_mask = torch.ones(len(pixel_values), length, device=pixel_values.device)
        encoded = self.forward_encoder(  # checks the inputs
            pixel_values, attention_mask, patch_mask, noise, output_hidden_states, output_attentions, mask_ratio
        )
        assert encoded.mask is not None and encoded.ids_restore is not None
        attention_mask = attention_mask.to(device=pixel_values.device, dtype=torch.float32)
        decoded = self.forward_decoder(
            encoded.last_hidden_state,
            encoded.ids_restore,
            attention_mask,
            output_hidden_states,
            output_attentions,
        )
        loss = self.forward_loss(pixel_values, decoded.logits, encoded.mask, attention_mask)
        return PIXELForPreTrainingOutput(
            loss=loss,
            logits=decoded.logits,
            mask=encoded.mask,
            ids_restore=encoded.ids_restore,
            attention_mask=attention_mask,
            hidden_states=encoded.hidden_states,
            attentions=encoded.attentions,
            decoder_hidden_states=decoded.hidden_states,
            decoder_attentions=decoded.attentions,
        )
