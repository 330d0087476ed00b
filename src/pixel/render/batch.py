"""Many texts -> one model-ready batch, kept uint8 and grey until it reaches the model's device.

A float32 3-channel copy is 12x the bytes of the grey uint8 image, so the conversion happens last, on the
device (`to_model_inputs`).

    batch = render_batch(renderer, ["a sentence", ("text a", "text b"), ["some", "words"]])
    pixel_values = to_model_inputs(batch, device="cuda")          # float32 [B, 3, 16, W] in [0, 1]
    attention_mask = torch.from_numpy(batch.attention_mask).to("cuda")   # float32 [B, W / 16]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from pixel.render.encoding import Encoding

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


def attention_masks(num_text_patches: Sequence[int] | np.ndarray, num_patches: int) -> np.ndarray:
    """float32 [B, num_patches]: row b has ones on its first min(num_text_patches[b] + 1, num_patches) patches."""
    counts = np.minimum(np.asarray(num_text_patches, dtype=np.int64) + 1, num_patches)
    return (np.arange(num_patches)[None, :] < counts[:, None]).astype(np.float32)


def collate_encodings(encodings: Sequence[Encoding]) -> RenderedBatch:
    """Stack encodings of one renderer (same strip size) into a `RenderedBatch` (usable as a collate_fn)."""
    if not encodings:
        raise ValueError("cannot build a batch from 0 encodings; give at least one")
    shape = encodings[0].pixel_values.shape
    pixel_values = np.empty((len(encodings), *shape), dtype=np.uint8)
    for index, encoding in enumerate(encodings):
        if encoding.pixel_values.shape != shape or encoding.pixel_values.dtype != np.uint8:
            raise ValueError(
                f"encoding {index} has pixel_values {encoding.pixel_values.dtype} {encoding.pixel_values.shape}, "
                f"expected uint8 {shape} like encoding 0; render a batch with one renderer"
            )
        pixel_values[index] = encoding.pixel_values
    num_text_patches = np.array([encoding.num_text_patches for encoding in encodings], dtype=np.int64)
    num_patches = shape[1] // shape[0]
    return RenderedBatch(
        pixel_values=pixel_values,
        attention_mask=attention_masks(num_text_patches, num_patches),
        num_text_patches=num_text_patches,
        unrenderable_chars=[list(encoding.unrenderable_chars) for encoding in encodings],
    )


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
    return collate_encodings([renderer(text, **options) for text in texts])


def to_model_inputs(
    batch_or_array: RenderedBatch | np.ndarray | torch.Tensor,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """uint8 images -> what PIXEL checkpoints take: ``dtype`` (float32) [B, 3, 16, W] in [0, 1] on ``device``.

    Accepts a `RenderedBatch` or a uint8 array/tensor [B, 16, W] (grey, copied to 3 channels) or
    [B, 16, W, 3] (RGB). No mean/std normalisation (the original trained without it). The uint8 data is sent
    to the device first and converted there.
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
