"""Batching of task features into tensors; images stay uint8 until they reach the model's device.

A feature is a dict with ``pixel_values`` (uint8 [16, W] or [16, W, 3]), ``num_text_patches`` (int) and
task fields: ``labels`` (int [L] for token tasks, a scalar int/float for sequence classification),
``word_starts`` [L+1] / ``arc_labels`` [L] / ``rel_labels`` [L] (parsing), ``start_positions`` /
``end_positions`` (QA scalars).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def collate_features(features: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Stack features into a batch.

    Returns pixel_values: uint8 [B, 16, W] (or [B, 16, W, 3]); attention_mask: float32 [B, L], ones on the
    first num_text_patches + 1 patches; each task field stacked (int64, float32 for float labels).
    """
    import torch

    if not features:
        raise ValueError("cannot collate an empty list of features")
    shapes = {np.asarray(f["pixel_values"]).shape for f in features}
    if len(shapes) != 1:
        raise ValueError(
            f"features have different image shapes {sorted(shapes)}; render with one max_seq_length"
        )
    pixel_values = torch.from_numpy(
        np.stack([np.asarray(f["pixel_values"], dtype=np.uint8) for f in features])
    )
    height, width = pixel_values.shape[1], pixel_values.shape[2]
    num_patches = width // height
    mask = torch.zeros(len(features), num_patches, dtype=torch.float32)
    for i, feature in enumerate(features):
        mask[i, : min(int(feature["num_text_patches"]) + 1, num_patches)] = 1.0
    batch: dict[str, Any] = {"pixel_values": pixel_values, "attention_mask": mask}
    for key in features[0]:
        if key in ("pixel_values", "num_text_patches"):
            continue
        values = [f[key] for f in features]
        if any(isinstance(v, str) or v is None for v in values):
            batch[key] = values  # ids and other per-example metadata
            continue
        array = np.asarray(values)
        dtype = torch.float32 if np.issubdtype(array.dtype, np.floating) else torch.int64
        batch[key] = torch.as_tensor(array, dtype=dtype)
    return batch


def pixels_to_model_input(pixel_values: Any, device: Any = None) -> Any:
    """uint8 [B, 16, W] (grey) or [B, 16, W, 3] -> float32 [B, 3, 16, W] in [0, 1] on ``device``.

    Grey is copied to 3 channels; no mean/std normalisation (the model's input contract).
    """
    import torch

    images = torch.as_tensor(pixel_values)
    if images.dtype != torch.uint8:
        raise TypeError(f"pixel_values must be uint8 images, got {images.dtype}")
    images = images.to(device=device, non_blocking=True)
    if images.dim() == 3:
        images = images.unsqueeze(1).expand(-1, 3, -1, -1)
    elif images.dim() == 4 and images.shape[-1] == 3:
        images = images.permute(0, 3, 1, 2)
    else:
        raise ValueError(f"pixel_values must be [B, 16, W] or [B, 16, W, 3], got {tuple(images.shape)}")
    return images.float().div_(255.0).contiguous()
