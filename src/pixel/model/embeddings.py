"""Patch embeddings of the strip and the original's random / controlled patch masking.

Shapes: B batch, L patches, D hidden size, K kept patches.
"""

from __future__ import annotations

import torch
from torch import nn

from pixel.model.config import PIXELConfig
from pixel.model.kernels import Dropout
from pixel.model.layers import sincos_position_table


class PIXELPatchEmbeddings(nn.Module):
    """Conv2d(C -> D, kernel = stride = patch size): pixel_values [B, C, p, p*L] -> [B, L, D]."""

    def __init__(self, config: PIXELConfig) -> None:
        super().__init__()
        p = config.patch_size
        self.projection = nn.Conv2d(config.num_channels, config.hidden_size, kernel_size=p, stride=p)

    def reset_parameters(self) -> None:
        """The initialisation the original's pretraining run actually used (its script swapped in fresh
        embeddings after the model's N(0, 0.02) init): Xavier-uniform on the [D, C*p*p] view of the kernel and
        PyTorch's default bias, U(+-1/sqrt(C*p*p))."""
        weight, bias = self.projection.weight, self.projection.bias
        nn.init.xavier_uniform_(weight.view(weight.shape[0], -1))
        bound = 1.0 / weight[0].numel() ** 0.5
        nn.init.uniform_(bias, -bound, bound)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.projection(pixel_values).flatten(2).transpose(1, 2)


class PIXELEmbeddings(nn.Module):
    """cls_token [1, 1, D], position_embeddings [1, 1 + L, D] (2-D sin-cos, stored), patch_embeddings.

    ``check_pixel_range`` (default True): every forward pass checks that pixel_values lie in [0, 1] (one
    min/max per batch; NaN fails too). Set ``model.vit.embeddings.check_pixel_range = False`` to skip it where
    the inputs are known to be right (benchmarks); it is skipped inside ``torch.compile`` graphs.
    """

    check_pixel_range = True

    def __init__(self, config: PIXELConfig, dropout: bool = True) -> None:
        super().__init__()
        self.config = config
        self.cls_token = nn.Parameter(torch.zeros(1, 1, config.hidden_size))
        self.position_embeddings = nn.Parameter(torch.zeros(1, config.num_patches + 1, config.hidden_size))
        self.patch_embeddings = PIXELPatchEmbeddings(config)
        # Fine-tuning (ViT) embeddings end with dropout; the original pretraining embeddings have none.
        self.dropout = Dropout(config.hidden_dropout_prob) if dropout else nn.Identity()

    def reset_parameters(self) -> None:
        nn.init.normal_(self.cls_token, std=self.config.initializer_range)
        table = sincos_position_table(self.config.hidden_size, self.position_embeddings.shape[1] - 1)
        with torch.no_grad():
            self.position_embeddings.copy_(table.to(self.position_embeddings.device))

    @property
    def max_patches(self) -> int:
        """The longest strip the position table covers (config.num_patches unless resized)."""
        return self.position_embeddings.shape[1] - 1

    def check_pixel_values(self, pixel_values: torch.Tensor) -> int:
        """Number of patches L' of a float [B, C, p, p*L'] strip with 1 <= L' <= max_patches; ValueError
        otherwise. A shorter strip uses the first 1 + L' position rows (PIXEL-M4 pads its batches to 63, 127,
        ... patches this way; it equals truncating the position embeddings to L')."""
        p, channels, longest = self.config.patch_size, self.config.num_channels, self.max_patches
        if (pixel_values.dim() != 4 or list(pixel_values.shape[1:3]) != [channels, p]
                or pixel_values.shape[3] % p or not 0 < pixel_values.shape[3] <= p * longest):
            raise ValueError(
                f"pixel_values has shape {list(pixel_values.shape)}, the model expects [batch, {channels}, {p}, "
                f"{p} * L] with L <= {longest} patches ([batch, {channels}, {p}, {p * longest}] at most; config "
                f"image_size {self.config.image_size}); render with the model's sequence length or resize the "
                f"model (max_seq_length=...)"
            )
        if not pixel_values.is_floating_point():
            raise TypeError(
                f"pixel_values must be a float tensor in [0, 1], got {pixel_values.dtype}; divide uint8 renders by 255"
            )
        return pixel_values.shape[3] // p

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """pixel_values [B, C, p, p*L] -> patch embeddings + positions 1..L [B, L, D] (CLS not included)."""
        length = self.check_pixel_values(pixel_values)
        if self.check_pixel_range and not torch.compiler.is_compiling():
            low, high = (float(v) for v in torch.aminmax(pixel_values.detach()))
            if not 0.0 <= low <= high <= 1.0:  # also false for NaN
                raise ValueError(
                    f"pixel_values: expected [0, 1], got values in [{low:g}, {high:g}]; "
                    "divide 0-255 images by 255 (pixel.render.batch.to_model_inputs does) and check for NaN"
                )
        patches = self.patch_embeddings(pixel_values.to(self.patch_embeddings.projection.weight.dtype))
        return patches + self.position_embeddings[:, 1 : 1 + length]

    def cls_embedding(self, batch_size: int) -> torch.Tensor:
        """[B, 1, D] = cls_token + position row 0."""
        return (self.cls_token + self.position_embeddings[:, :1]).expand(batch_size, -1, -1)


def num_kept(num_patches: int, mask_ratio: float) -> int:
    """Patches kept by masking: int(L * (1 - mask_ratio)), as the original (396 of 529 at 0.25)."""
    if not 0.0 <= mask_ratio < 1.0:
        raise ValueError(f"mask_ratio must be in [0, 1), got {mask_ratio}")
    return int(num_patches * (1 - mask_ratio))


def shuffle_and_keep(
    sequence: torch.Tensor, noise: torch.Tensor, len_keep: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Keep the `len_keep` patches of lowest noise.

    sequence [B, L, D], noise [B, L] -> kept [B, K, D], mask [B, L] (1 = removed), ids_restore [B, L],
    ids_keep [B, K] (kept patch indices in ascending-noise order).
    """
    batch, length, dim = sequence.shape
    ids_shuffle = torch.argsort(noise, dim=1)
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    ids_keep = ids_shuffle[:, :len_keep]
    kept = torch.gather(sequence, 1, ids_keep[..., None].expand(-1, -1, dim))
    mask = torch.ones(batch, length, device=sequence.device, dtype=sequence.dtype)
    mask[:, :len_keep] = 0
    mask = torch.gather(mask, 1, ids_restore)
    return kept, mask, ids_restore, ids_keep


def random_masking_noise(attention_mask: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
    """Noise of the original's random masking: U[0, 1) per patch, and 100 for the text patch (attention_mask 1)
    with the largest noise, so that at least one text patch is always masked. [B, L] -> [B, L].

    `noise` injects the uniform draw (tests); None draws it with torch.rand.
    """
    if noise is None:
        noise = torch.rand(attention_mask.shape, device=attention_mask.device)
    forced = torch.argmax(noise * attention_mask, dim=1)
    return noise.scatter(1, forced[:, None], 100.0)


def controlled_masking_noise(patch_mask: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
    """Noise of the original's controlled (span) masking: patch_mask + U[0, 1) / 100, so patches with
    patch_mask 1 go first and random others fill up the quota. [B, L] -> [B, L]."""
    if noise is None:
        noise = torch.rand(patch_mask.shape, device=patch_mask.device)
    return patch_mask.to(noise.dtype) + noise / 100
