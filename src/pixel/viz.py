"""Pictures for people: masked-autoencoder reconstructions and loss curves (numpy + PIL; torch for the
model's patch layout).

A reconstruction figure shows, for each line of the (cropped, optionally wrapped) strip, four rows:

- ``input``: the rendered strip the model saw;
- ``masked``: the same with the masked patches hatched;
- ``prediction``: the decoder output for every patch;
- ``paste``: the visible original with the prediction pasted into the masked, attended patches (MAE demo).

The pretraining loss compares predictions with targets standardised per patch (``norm_pix_loss``), so a raw
prediction is not a picture. As MAE demos do, each predicted patch is mapped back with the mean and
(unbiased) standard deviation of its own target patch (the model's ``norm_pix_statistics``, on its
``patchify`` layout); the caption drawn on the picture says so. That uses the target's statistics, so the
masked patches' brightness and contrast come from the original.

The original code logged 23x23 squares to wandb without un-normalising (spec 3.4); these are strips.
"""

from __future__ import annotations

import copy
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

if TYPE_CHECKING:
    import torch

    from pixel.model.pixel import PIXELForPreTraining
    from pixel.render.base import TextRenderer
    from pixel.render.encoding import Encoding

PATCH = 16
ROW_NAMES = ("input", "masked", "prediction", "paste")

LABEL_WIDTH = 96
ROW_GAP = 2
MARKER_HEIGHT = 3
LINE_GAP = 12
MARGIN = 8
CAPTION_FONT_SIZE = 14
CAPTION_LINE_HEIGHT = 18

HATCH_LIGHT = 0.85
HATCH_DARK = 0.55
MARKER_COLOUR = (220, 40, 40)
BACKGROUND = (255, 255, 255)


def _to_numpy(value: Any, name: str) -> np.ndarray:
    """A numpy copy of ``value`` (numpy array, torch tensor, or nested lists)."""
    if hasattr(value, "detach"):
        value = value.detach().float().cpu().numpy() if value.is_floating_point() else value.detach().cpu().numpy()
    array = np.asarray(value)
    if array.dtype == object:
        raise TypeError(f"{name}: expected a numeric array or tensor, got {type(value).__name__}")
    return array


def _model_strip(pixel_values: Any) -> torch.Tensor:
    """Any strip form -> the model's input layout: float64 ``[1, 3, 16, W]`` in [0, 1].

    Accepts model input ``[3, 16, W]`` (or ``[1, 3, 16, W]``) float in [0, 1], a rendered grey strip uint8
    ``[16, W]`` (255 = white) or an RGB render uint8 ``[16, W, 3]``.
    """
    import torch

    from pixel.render.batch import to_model_inputs

    array = _to_numpy(pixel_values, "pixel_values")
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]
    if array.dtype == np.uint8 and (array.ndim == 2 or (array.ndim == 3 and array.shape[2] == 3)):
        strip = to_model_inputs(array[None], dtype=torch.float64)
    elif array.ndim == 3 and array.shape[0] == 3 and array.dtype != np.uint8:
        strip = torch.from_numpy(array.astype(np.float64))[None]
    else:
        raise ValueError(
            f"pixel_values: expected float [3, 16, W] in [0, 1] or uint8 [16, W] / [16, W, 3], got "
            f"{array.dtype} {list(array.shape)}"
        )
    if strip.shape[2] != PATCH or strip.shape[3] % PATCH:
        raise ValueError(f"pixel_values: expected a strip 16 px high whose width is a multiple of 16, got {list(array.shape)}")
    if not bool(torch.isfinite(strip).all()) or float(strip.min()) < 0.0 or float(strip.max()) > 1.0:
        raise ValueError("pixel_values: values must be finite and in [0, 1] (model inputs are not normalised)")
    return strip


def _hwc(strip: torch.Tensor) -> np.ndarray:
    """``[1, 3, 16, W]`` -> numpy ``[16, W, 3]`` (the layout of a picture)."""
    return strip[0].permute(1, 2, 0).numpy()


def _hatched(shape: tuple[int, int, int]) -> np.ndarray:
    """A diagonal hatch pattern ``[16, 16*n, 3]`` marking masked patches."""
    rows, cols = np.indices(shape[:2])
    pattern = np.where((rows + cols) % 4 == 0, HATCH_DARK, HATCH_LIGHT)
    return np.repeat(pattern[:, :, None], shape[2], axis=2)


def _to_uint8(strip: np.ndarray) -> np.ndarray:
    return np.round(np.clip(strip, 0.0, 1.0) * 255.0).astype(np.uint8)


def reconstruction_rows(
    pixel_values: Any,
    mask: Any,
    attention_mask: Any,
    logits: Any,
    *,
    norm_pix_loss: bool = True,
) -> dict[str, np.ndarray]:
    """The four rows of a reconstruction figure at full strip length, uint8 ``[16, 16*L, 3]`` each.

    pixel_values: ``[3, 16, 16*L]`` float in [0, 1] or uint8 ``[16, 16*L]``; mask: ``[L]`` (1 = masked);
    attention_mask: ``[L]`` (1 = text or end patch); logits: ``[L, 16*16*3]`` in patchify order.
    ``paste`` equals ``input`` exactly outside the masked, attended patches.
    """
    import torch

    from pixel.model.pixel import norm_pix_statistics, patchify, unpatchify

    image = _model_strip(pixel_values)
    strip = _hwc(image)
    num_patches = strip.shape[1] // PATCH
    masked = _to_numpy(mask, "mask").reshape(-1).astype(np.float64)
    attended = _to_numpy(attention_mask, "attention_mask").reshape(-1).astype(np.float64)
    predictions = _to_numpy(logits, "logits").astype(np.float64)
    if predictions.ndim == 3 and predictions.shape[0] == 1:
        predictions = predictions[0]
    for name, vector in (("mask", masked), ("attention_mask", attended)):
        if vector.shape != (num_patches,):
            raise ValueError(f"{name}: expected {num_patches} values (one per patch of the strip), got {vector.shape[0]}")
        if not np.isin(vector, (0.0, 1.0)).all():
            raise ValueError(f"{name}: values must be 0 or 1")
    if predictions.shape != (num_patches, PATCH * PATCH * 3):
        raise ValueError(
            f"logits: expected [{num_patches}, {PATCH * PATCH * 3}] (one 16x16x3 patch per strip patch), "
            f"got {list(predictions.shape)}"
        )
    if not np.isfinite(predictions).all():
        raise ValueError("logits: contain NaN or infinite values; the model output is broken")

    patches = torch.from_numpy(predictions)
    if norm_pix_loss:  # back to pixels with each target patch's own statistics, as MAE demos do
        mean, std = norm_pix_statistics(patchify(image)[0])
        patches = patches * std + mean
    prediction = _hwc(unpatchify(patches.clamp(0.0, 1.0)[None]))

    per_pixel = np.repeat(masked, PATCH)[None, :, None].astype(bool)
    pasted = np.repeat(masked * attended, PATCH)[None, :, None].astype(bool)
    input_u8 = _to_uint8(strip)
    prediction_u8 = _to_uint8(prediction)
    return {
        "input": input_u8,
        "masked": np.where(per_pixel, _to_uint8(_hatched(strip.shape)), input_u8),
        "prediction": prediction_u8,
        "paste": np.where(pasted, prediction_u8, input_u8),
    }


@dataclass(frozen=True)
class FigureLayout:
    """Pixel geometry of a reconstruction figure (so tests and callers can find each strip)."""

    scale: int
    patches_per_line: int
    num_patches: int
    caption_lines: int

    @property
    def num_lines(self) -> int:
        return max(1, math.ceil(self.num_patches / self.patches_per_line))

    @property
    def row_height(self) -> int:
        return PATCH * self.scale

    @property
    def line_height(self) -> int:
        return len(ROW_NAMES) * (self.row_height + ROW_GAP) + MARKER_HEIGHT + LINE_GAP

    @property
    def caption_height(self) -> int:
        return self.caption_lines * CAPTION_LINE_HEIGHT + (MARGIN if self.caption_lines else 0)

    @property
    def size(self) -> tuple[int, int]:
        width = MARGIN + LABEL_WIDTH + self.patches_per_line * PATCH * self.scale + MARGIN
        height = MARGIN + self.caption_height + self.num_lines * self.line_height + MARGIN - LINE_GAP
        return width, height

    def patch_range(self, line: int) -> tuple[int, int]:
        """First and end (exclusive) patch index of the strip shown on ``line``."""
        start = line * self.patches_per_line
        return start, min(start + self.patches_per_line, self.num_patches)

    def strip_box(self, line: int, row: int) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) of row ``row`` (index into ROW_NAMES) on ``line``."""
        start, end = self.patch_range(line)
        left = MARGIN + LABEL_WIDTH
        top = MARGIN + self.caption_height + line * self.line_height + row * (self.row_height + ROW_GAP)
        return left, top, left + (end - start) * PATCH * self.scale, top + self.row_height


def caption_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The bundled Noto Sans (Latin, Greek, Cyrillic captions), else Pillow's default font."""
    from pixel.render.base import DEFAULT_FONT_FILE

    try:
        return ImageFont.truetype(str(DEFAULT_FONT_FILE), size=size)
    except OSError:
        return ImageFont.load_default(size=size)


NORMALISATION_NOTE = (
    "Predictions un-normalised with each target patch's own mean and std (norm_pix_loss, as in MAE demos); "
    "hatched = masked; red bar = predicted patches pasted into the original."
)
RAW_NOTE = "Predictions shown as raw pixels (model trained without norm_pix_loss); hatched = masked."


def reconstruction_figure(
    pixel_values: Any,
    mask: Any,
    attention_mask: Any,
    logits: Any,
    caption: str | Sequence[str] = (),
    *,
    norm_pix_loss: bool = True,
    crop: bool = True,
    margin_patches: int = 2,
    patches_per_line: int | None = 64,
    scale: int = 2,
) -> Image.Image:
    """An RGB picture of one reconstruction: per line of the strip, the rows input / masked / prediction / paste.

    pixel_values: ``[3, 16, 16*L]`` float in [0, 1] or uint8 ``[16, 16*L]``; mask, attention_mask: ``[L]``;
    logits: ``[L, 768]`` (decoder output in patchify order). ``caption``: line(s) drawn above the rows, followed
    by a note on how predictions were un-normalised. ``crop`` keeps the attended patches plus
    ``margin_patches``; ``patches_per_line`` wraps the strip (None = one line); ``scale``: nearest upscaling.
    """
    if not 1 <= scale <= 8:
        raise ValueError(f"scale: expected an integer from 1 to 8, got {scale}")
    if margin_patches < 0:
        raise ValueError(f"margin_patches: must be >= 0, got {margin_patches}")
    rows = reconstruction_rows(pixel_values, mask, attention_mask, logits, norm_pix_loss=norm_pix_loss)
    num_patches = rows["input"].shape[1] // PATCH
    shown = num_patches
    if crop:
        attended = int(np.asarray(_to_numpy(attention_mask, "attention_mask")).reshape(-1).sum())
        shown = min(num_patches, max(1, attended) + margin_patches)
    if patches_per_line is None:
        patches_per_line = shown
    if patches_per_line < 1:
        raise ValueError(f"patches_per_line: must be >= 1 or None, got {patches_per_line}")
    patches_per_line = min(patches_per_line, shown)

    font = caption_font(CAPTION_FONT_SIZE)
    captions = [caption] if isinstance(caption, str) else list(caption)
    if shown < num_patches:
        captions.append(f"Showing patches 0-{shown - 1} of {num_patches} (text + end patch + {margin_patches} more).")
    captions.append(NORMALISATION_NOTE if norm_pix_loss else RAW_NOTE)
    width_px = MARGIN + LABEL_WIDTH + patches_per_line * PATCH * scale + MARGIN
    chars_per_line = max(40, (width_px - 2 * MARGIN) // 8)
    caption_lines = [piece for text in captions for piece in textwrap.wrap(text, chars_per_line) or [""]]

    layout = FigureLayout(scale=scale, patches_per_line=patches_per_line, num_patches=shown,
                          caption_lines=len(caption_lines))
    image = Image.new("RGB", layout.size, BACKGROUND)
    draw = ImageDraw.Draw(image)
    for index, text in enumerate(caption_lines):
        draw.text((MARGIN, MARGIN + index * CAPTION_LINE_HEIGHT), text, fill=(0, 0, 0), font=font)

    masked = _to_numpy(mask, "mask").reshape(-1).astype(bool)
    pasted = masked & _to_numpy(attention_mask, "attention_mask").reshape(-1).astype(bool)
    for line in range(layout.num_lines):
        start, end = layout.patch_range(line)
        for row_index, name in enumerate(ROW_NAMES):
            left, top, right, bottom = layout.strip_box(line, row_index)
            piece = rows[name][:, start * PATCH : end * PATCH]
            tile = Image.fromarray(piece, "RGB").resize((right - left, bottom - top), Image.Resampling.NEAREST)
            image.paste(tile, (left, top))
            label_y = top + (bottom - top - CAPTION_FONT_SIZE) // 2
            draw.text((MARGIN, label_y), name, fill=(60, 60, 60), font=font)
        marker_top = layout.strip_box(line, len(ROW_NAMES) - 1)[3]
        for patch in np.flatnonzero(pasted[start:end]):
            x0 = MARGIN + LABEL_WIDTH + int(patch) * PATCH * scale
            draw.rectangle([x0, marker_top, x0 + PATCH * scale - 1, marker_top + MARKER_HEIGHT - 1], fill=MARKER_COLOUR)
    return image


def loss_curve_figure(
    steps: Sequence[float],
    losses: Sequence[float],
    val: tuple[Sequence[float], Sequence[float]] | None = None,
    *,
    title: str = "loss",
    size: tuple[int, int] = (720, 420),
) -> Image.Image:
    """A line plot of training loss per step (blue) and optional validation ``(steps, losses)`` (orange dots).

    Non-finite losses are not drawn; the title says how many were skipped.
    """
    series = [("train", steps, losses, (31, 119, 180))]
    if val is not None:
        if len(val) != 2:
            raise ValueError("val: expected a pair (steps, losses)")
        series.append(("val", val[0], val[1], (255, 127, 14)))
    points: list[tuple[str, np.ndarray, np.ndarray, tuple[int, int, int]]] = []
    skipped = 0
    for name, xs, ys, colour in series:
        x = np.asarray(xs, dtype=np.float64).reshape(-1)
        y = np.asarray(ys, dtype=np.float64).reshape(-1)
        if x.shape != y.shape:
            raise ValueError(f"{name}: steps and losses differ in length ({x.size} vs {y.size})")
        finite = np.isfinite(x) & np.isfinite(y)
        skipped += int((~finite).sum())
        points.append((name, x[finite], y[finite], colour))
    if points[0][1].size == 0:
        raise ValueError("losses: no finite training loss to plot")
    width, height = size
    if width < 200 or height < 150:
        raise ValueError(f"size: at least (200, 150) pixels, got {size}")

    all_x = np.concatenate([p[1] for p in points])
    all_y = np.concatenate([p[2] for p in points])
    integer_steps = bool(np.all(all_x == np.round(all_x)))
    x_lo, x_hi = float(all_x.min()), float(all_x.max())
    y_lo, y_hi = float(all_y.min()), float(all_y.max())
    if x_hi == x_lo:
        x_lo, x_hi = x_lo - 1.0, x_hi + 1.0
    pad = (y_hi - y_lo) * 0.05 or max(abs(y_hi) * 0.05, 1e-3)
    y_lo, y_hi = y_lo - pad, y_hi + pad

    font = caption_font(12)
    image = Image.new("RGB", size, BACKGROUND)
    draw = ImageDraw.Draw(image)
    left, right, top, bottom = 70, width - 20, 34, height - 40

    def to_px(x: np.ndarray, y: np.ndarray) -> list[tuple[float, float]]:
        px = left + (x - x_lo) / (x_hi - x_lo) * (right - left)
        py = bottom - (y - y_lo) / (y_hi - y_lo) * (bottom - top)
        return list(zip(px.tolist(), py.tolist(), strict=True))

    for fraction in np.linspace(0.0, 1.0, 5):
        y_value = y_lo + fraction * (y_hi - y_lo)
        y_px = bottom - fraction * (bottom - top)
        draw.line([(left, y_px), (right, y_px)], fill=(230, 230, 230))
        draw.text((4, y_px - 7), f"{y_value:.4g}", fill=(60, 60, 60), font=font)
        x_value = x_lo + fraction * (x_hi - x_lo)
        x_px = left + fraction * (right - left)
        x_label = f"{round(x_value)}" if integer_steps else f"{x_value:.4g}"
        draw.text((x_px - 12, bottom + 6), x_label, fill=(60, 60, 60), font=font)
    draw.rectangle([left, top, right, bottom], outline=(0, 0, 0))
    heading = title + (f" ({skipped} non-finite points not drawn)" if skipped else "")
    draw.text((left, 8), heading, fill=(0, 0, 0), font=font)
    draw.text(((left + right) // 2 - 12, height - 18), "step", fill=(60, 60, 60), font=font)

    legend_x = right - 90
    for index, (name, x, y, colour) in enumerate(points):
        xy = to_px(x, y)
        if name == "train" and len(xy) > 1:
            draw.line(xy, fill=colour, width=2)
        else:
            for cx, cy in xy:
                draw.ellipse([cx - 3, cy - 3, cx + 3, cy + 3], fill=colour)
        legend_y = top + 8 + index * 16
        draw.line([(legend_x, legend_y + 7), (legend_x + 20, legend_y + 7)], fill=colour, width=3)
        draw.text((legend_x + 26, legend_y), name, fill=(0, 0, 0), font=font)
    return image


@dataclass
class ReconstructionDetails:
    """What :func:`reconstruct` fed the model and got back (numpy, batch dimension dropped).

    pixel_values: float32 ``[3, 16, 16*L]`` in [0, 1]; attention_mask, patch_mask, mask: float32 ``[L]``
    (patch_mask = the requested mask, mask = the patches the model removed, 1 = masked); logits: float32
    ``[L, 768]``; masked_text_patches: masked patches inside the attention mask (the ones the loss counts).
    """

    encoding: Encoding
    pixel_values: np.ndarray
    attention_mask: np.ndarray
    patch_mask: np.ndarray
    mask: np.ndarray
    logits: np.ndarray
    loss: float
    masked_text_patches: int
    caption: list[str] = field(default_factory=list)


def random_patch_mask(num_patches: int, num_masked: int, num_attended: int, seed: int) -> np.ndarray:
    """float32 ``[num_patches]`` with ``num_masked`` ones anywhere (padding included, as the original's random
    masking), at least one of them among the first ``num_attended`` patches so that the loss is defined."""
    rng = np.random.default_rng(seed)
    chosen = rng.choice(num_patches, size=num_masked, replace=False)
    if not (chosen < num_attended).any():
        chosen[0] = rng.integers(0, num_attended)
    mask = np.zeros(num_patches, dtype=np.float32)
    mask[chosen] = 1.0
    return mask


def reconstruct(
    model: PIXELForPreTraining,
    renderer: TextRenderer,
    text: str,
    mask_ratio: float = 0.25,
    span: bool = True,
    seed: int = 0,
    max_seq_length: int | None = None,
    *,
    max_span_length: int = 6,
    caption: str | Sequence[str] = (),
    crop: bool = True,
    patches_per_line: int | None = 64,
    scale: int = 2,
) -> tuple[Image.Image, float, ReconstructionDetails]:
    """Render ``text``, mask it, let a pretraining model reconstruct it, and draw the result.

    Masking as the original visualiser: ``ceil(mask_ratio * L)`` patches as spans (``span=True``, the
    pretraining ``SpanMaskingGenerator``: spans up to ``max_span_length`` = 6 with weights .2 .4 .6 .8 .9 1,
    cut and rescaled for shorter maxima; 1 = single patches, as pixel-tiny was trained) or uniformly at random over
    the whole strip (at least one text patch), and the model removes exactly ``L - int(L * (1 - mask_ratio))``.
    Everything random is drawn from ``seed``; global random state is left as it was. The model runs in eval
    mode without gradients; neither it nor the renderer is changed (``max_seq_length`` works on copies,
    truncating position embeddings as the original). Returns (picture, loss, details).
    """
    import torch

    from pixel.model.masking import PIXEL_BASE_CUMULATIVE_SPAN_WEIGHTS, SpanMaskingGenerator
    from pixel.render.batch import to_model_inputs

    if not isinstance(text, str):
        raise TypeError(f"text: expected str, got {type(text).__name__}")
    if not 0.0 < mask_ratio < 1.0:
        raise ValueError(f"mask_ratio: expected a number between 0 and 1 (exclusive), got {mask_ratio}")
    num_patches = int(model.config.num_patches)
    if max_seq_length is not None and max_seq_length != num_patches:
        if max_seq_length < 2:
            raise ValueError(f"max_seq_length: at least 2 patches (text + end patch), got {max_seq_length}")
        from pixel.model.resize import resize_position_embeddings

        model = copy.deepcopy(model)
        resize_position_embeddings(model, max_seq_length)
        num_patches = max_seq_length
    if renderer.max_seq_length != num_patches:
        renderer = copy.copy(renderer)
        renderer.max_seq_length = num_patches

    encoding = renderer(text)
    pixel_values = to_model_inputs(encoding.pixel_values[None])  # float32 [1, 3, 16, W]
    attention_mask = encoding.attention_mask
    num_attended = int(attention_mask.sum())
    num_removed = num_patches - int(num_patches * (1.0 - mask_ratio))
    if span:
        longest = len(PIXEL_BASE_CUMULATIVE_SPAN_WEIGHTS)
        if not 1 <= max_span_length <= longest:
            raise ValueError(f"max_span_length: expected 1 to {longest}, got {max_span_length}")
        weights = PIXEL_BASE_CUMULATIVE_SPAN_WEIGHTS[:max_span_length]
        generator = SpanMaskingGenerator(num_patches, math.ceil(mask_ratio * num_patches),
                                         max_span_length=max_span_length,
                                         cumulative_span_weights=[w / weights[-1] for w in weights], seed=seed)
        patch_mask = np.asarray(generator.gen(encoding.num_text_patches + 1), dtype=np.float32)
    else:
        patch_mask = random_patch_mask(num_patches, num_removed, num_attended, seed)

    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []), torch.inference_mode():
            torch.manual_seed(seed)
            output = model(
                pixel_values.to(device),
                attention_mask=torch.from_numpy(attention_mask)[None].to(device),
                patch_mask=torch.from_numpy(patch_mask)[None].to(device),
                mask_ratio=mask_ratio,
            )
    finally:
        model.train(was_training)
    loss = float(output.loss)
    mask = output.mask[0].float().cpu().numpy()
    logits = output.logits[0].float().cpu().numpy()
    masked_text = int((mask * attention_mask).sum())
    if masked_text == 0:
        raise ValueError(
            f"no masked patch fell on the text (mask_ratio {mask_ratio}, seed {seed}, {num_patches} patches): the "
            f"loss is undefined; use a larger mask_ratio, a shorter max_seq_length, another seed or random masking"
        )
    if not math.isfinite(loss):
        raise RuntimeError(f"the model returned a non-finite reconstruction loss ({loss}); its weights are broken")

    shown_text = text if len(text) <= 120 else text[:117] + "..."
    lines = [caption] if isinstance(caption, str) else list(caption)
    lines += [
        f"Text: {shown_text!r} ({encoding.num_text_patches} text patches of {num_patches})",
        f"{'Span' if span else 'Random'} masking, ratio {mask_ratio:g}, seed {seed}: {int(mask.sum())} patches "
        f"removed, {masked_text} of them in the text + end patch. Reconstruction loss (norm-pix MSE on those): "
        f"{loss:.4f}",
    ]
    image = reconstruction_figure(
        pixel_values, mask, attention_mask, logits, lines, norm_pix_loss=bool(model.config.norm_pix_loss),
        crop=crop, patches_per_line=patches_per_line, scale=scale,
    )
    details = ReconstructionDetails(encoding, pixel_values[0].numpy(), attention_mask, patch_mask, mask, logits,
                                    loss, masked_text, lines)
    return image, loss, details
