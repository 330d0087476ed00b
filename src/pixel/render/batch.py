"""Rendered examples -> one model-ready batch, kept uint8 and grey until it reaches the model's device.

A float32 3-channel copy is 12x the bytes of the grey uint8 image, so the conversion happens last, on the
device (`to_model_inputs`). This module is the only place that stacks renders (`collate`), builds attention
masks (`attention_masks`, defined beside `Encoding`) and turns uint8 images into model inputs (`to_model_inputs`).

    batch = render_batch(renderer, ["a sentence", ("text a", "text b"), ["some", "words"]])
    pixel_values = to_model_inputs(batch, device="cuda")          # float32 [B, 3, 16, W] in [0, 1]
    attention_mask = torch.from_numpy(batch.attention_mask).to("cuda")   # float32 [B, W / 16]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from pixel.render.encoding import Encoding, attention_masks

if TYPE_CHECKING:
    import torch

    from pixel.render.base import TextRenderer


@dataclass
class RenderedBatch:
    """Rendered texts stacked for a model.

    pixel_values: uint8 [B, 16, W] grey (255 = white), or [B, 16, W, 3] from an ``rgb`` renderer.
    attention_mask: float32 [B, L], L = W / 16: ones on the first ``min(num_text_patches + 1, L)`` patches
        (the text and its black end patch).
    num_text_patches: int64 [B].
    unrenderable_chars: per text, the characters no font could draw.
    """

    pixel_values: np.ndarray
    attention_mask: np.ndarray
    num_text_patches: np.ndarray
    unrenderable_chars: list[list[str]]

    def __len__(self) -> int:
        return len(self.pixel_values)


def collate(examples: Sequence[Encoding | Mapping[str, Any]]) -> dict[str, Any]:
    """Stack rendered examples of one renderer (same strip size) into a batch; usable as a collate_fn.

    An example is an `Encoding` or a mapping with ``pixel_values`` (uint8 [16, W] or [16, W, 3]),
    ``num_text_patches`` (int) and any extra per-example fields (labels, masks, ids; the keys of the first
    example). Returns torch tensors: pixel_values uint8 [B, 16, W] (or [B, 16, W, 3]); attention_mask float32
    [B, L] (`attention_masks`); num_text_patches int64 [B]; each extra field stacked, float32 when it holds
    floats, else int64, or kept as a list when it holds strings or None (ids, metadata).
    """
    import torch

    if not examples:
        raise ValueError("cannot collate an empty list (0 encodings); give at least one example")
    rows: list[dict[str, Any]] = []
    pixel_values = shape = None
    for index, example in enumerate(examples):  # one pass: a lazily rendered image is copied while in cache
        row = _fields(example)
        image = row.pop("pixel_values")
        if pixel_values is None:
            shape = image.shape
            pixel_values = np.empty((len(examples), *shape), dtype=np.uint8)
        if image.shape != shape or image.dtype != np.uint8:
            raise ValueError(
                f"different image shapes in one batch: encoding {index} has pixel_values {image.dtype} "
                f"{image.shape}, expected uint8 {shape} like encoding 0; render every example with one "
                "renderer (one max_seq_length)"
            )
        pixel_values[index] = image
        rows.append(row)
    num_text_patches = np.array([int(row["num_text_patches"]) for row in rows], dtype=np.int64)
    batch: dict[str, Any] = {
        "pixel_values": torch.from_numpy(pixel_values),
        "attention_mask": torch.from_numpy(attention_masks(num_text_patches, shape[1] // shape[0])),
        "num_text_patches": torch.from_numpy(num_text_patches),
    }
    for key in rows[0]:
        if key in batch:
            continue
        values = [row[key] for row in rows]
        if any(isinstance(value, str) or value is None for value in values):
            batch[key] = values
            continue
        array = np.asarray(values)
        dtype = torch.float32 if np.issubdtype(array.dtype, np.floating) else torch.int64
        batch[key] = torch.as_tensor(array, dtype=dtype)
    return batch


def _fields(example: Encoding | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(example, Mapping):
        return {**example, "pixel_values": np.asarray(example["pixel_values"])}
    return {"pixel_values": np.asarray(example.pixel_values), "num_text_patches": example.num_text_patches}


def render_batch(
    renderer: TextRenderer, texts: Sequence[str | tuple[str, str] | list[str]], **options: Any
) -> RenderedBatch:
    """Render every item of ``texts`` (str, (text_a, text_b) pair or word list) and stack the results.

    ``options`` go to each renderer call (e.g. ``rtl=True``).
    """
    if isinstance(texts, (str, tuple)):
        raise TypeError(
            f"render_batch takes a sequence of texts (a list), got a single {type(texts).__name__}; "
            "wrap it in a list"
        )
    renders = _Renders(renderer, texts if isinstance(texts, Sequence) else list(texts), options)
    batch = collate(renders)
    return RenderedBatch(
        pixel_values=batch["pixel_values"].numpy(),
        attention_mask=batch["attention_mask"].numpy(),
        num_text_patches=batch["num_text_patches"].numpy(),
        unrenderable_chars=renders.unrenderable_chars,
    )


class _Renders(Sequence):
    """``texts`` rendered one at a time as `collate` reads them in order, so that each image is copied into the
    batch while it is still in the cache and its memory is reused by the next render (a list of encodings
    copied afterwards made render_batch ~13 % slower than the renders themselves)."""

    def __init__(self, renderer: TextRenderer, texts: Sequence[Any], options: dict[str, Any]) -> None:
        self.renderer, self.texts, self.options = renderer, texts, options
        self.unrenderable_chars: list[list[str]] = []

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, index: int) -> Encoding:  # type: ignore[override]
        encoding = self.renderer(self.texts[index], **self.options)
        self.unrenderable_chars.append(list(encoding.unrenderable_chars))
        return encoding


def to_model_inputs(
    batch_or_array: RenderedBatch | np.ndarray | torch.Tensor,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """uint8 images -> what PIXEL checkpoints take: ``dtype`` (float32) [B, 3, 16, W] in [0, 1] on ``device``.

    Accepts a `RenderedBatch` or a uint8 array/tensor [B, 16, W] (grey, copied to 3 channels) or
    [B, 16, W, 3] (RGB), e.g. ``collate(...)["pixel_values"]``. No mean/std normalisation (the original
    trained without it). The uint8 data is sent to the device first and converted there.
    """
    import torch

    images = batch_or_array.pixel_values if isinstance(batch_or_array, RenderedBatch) else batch_or_array
    images = torch.from_numpy(np.ascontiguousarray(images)) if isinstance(images, np.ndarray) else images
    if not isinstance(images, torch.Tensor):
        raise TypeError(
            f"to_model_inputs takes a RenderedBatch, numpy array or torch tensor, got {type(images).__name__}"
        )
    if images.dtype != torch.uint8:
        raise ValueError(
            f"to_model_inputs expects uint8 images (0-255), got {images.dtype}; pass the renderer's output"
        )
    if images.ndim == 4 and images.shape[-1] == 3:
        images = images.permute(0, 3, 1, 2)
    elif images.ndim == 3:
        images = images.unsqueeze(1)
    else:
        raise ValueError(
            f"to_model_inputs expects a batch [B, 16, W] (grey) or [B, 16, W, 3] (RGB), got shape "
            f"{tuple(images.shape)}; add a batch axis to a single image"
        )
    images = images.to(device=device, non_blocking=True)
    values = images.to(torch.float32 if dtype is None else dtype).div_(255)
    return values.expand(-1, 3, -1, -1).contiguous()
