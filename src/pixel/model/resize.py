"""Change the sequence length L of a model or checkpoint by resizing its position embeddings.

Shorter than the checkpoint: keep the first L + 1 rows (CLS + patches), exactly as the original's fine-tuning
scripts did (so the 23 x 23 sin-cos layout of pixel-base is kept, not recomputed). Longer: interpolate the
patch rows linearly along the 1-D strip (first and last rows kept; the CLS row unchanged). The original instead
switched on a square-image interpolation that does not work for strips; there is no original behaviour to
match, and because pixel-base's table wraps every 23 patches, positions past the checkpoint's length are an
approximation that fine-tuning has to adapt.
"""

from __future__ import annotations

from typing import TypeVar

import torch
import torch.nn.functional as F
from torch import nn

POSITION_KEYS = ("position_embeddings", "decoder_pos_embed")

ModelOrState = TypeVar("ModelOrState", nn.Module, dict[str, torch.Tensor])


def resize_position_table(table: torch.Tensor, num_patches: int) -> torch.Tensor:
    """table [1, 1 + L0, D] -> [1, 1 + num_patches, D] (truncate, or interpolate linearly when longer)."""
    if table.dim() != 3 or table.shape[0] != 1:
        raise ValueError(f"position table must have shape [1, 1 + L, D], got {list(table.shape)}")
    if num_patches < 1:
        raise ValueError(f"max_seq_length must be at least 1 patch, got {num_patches}")
    old = table.shape[1] - 1
    if num_patches <= old:
        return table[:, : num_patches + 1].clone()
    patches = table[:, 1:].transpose(1, 2).float()  # [1, D, L0]
    stretched = F.interpolate(patches, size=num_patches, mode="linear", align_corners=True)
    return torch.cat([table[:, :1], stretched.transpose(1, 2).to(table.dtype)], dim=1)


def resize_position_embeddings(model_or_state: ModelOrState, max_seq_length: int) -> ModelOrState:
    """Resize every position table of a model (in place, also setting config.image_size to [p, p*L]) or of a
    state dict (returns a new dict) to `max_seq_length` patches."""
    if isinstance(model_or_state, dict):
        return {
            key: resize_position_table(value, max_seq_length) if key.endswith(POSITION_KEYS) else value
            for key, value in model_or_state.items()
        }
    model = model_or_state
    for module in model.modules():
        for name in POSITION_KEYS:
            param = getattr(module, name, None)
            if isinstance(param, nn.Parameter):
                resized = resize_position_table(param.detach(), max_seq_length)
                setattr(module, name, nn.Parameter(resized, requires_grad=param.requires_grad))
    config = getattr(model, "config", None)
    if config is not None:
        config.image_size = [config.patch_size, config.patch_size * max_seq_length]
    return model
