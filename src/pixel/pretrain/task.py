"""Pretraining as one task of the trainer: the model and renderer of a run, its data, its pictures, and the
loss a model must beat."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
from torch import nn

from pixel.data.pretraining import PretrainingDataset, SpanMasker
from pixel.data.text import TextSource
from pixel.model.pixel import norm_pix_target, patchify
from pixel.pretrain.config import PretrainConfig
from pixel.render.batch import to_model_inputs


def build_renderer(config: PretrainConfig) -> tuple[Any, str]:
    """(the run's renderer, where it came from), by the rule of :mod:`pixel.render.choose`: the renderer folder
    ``renderer`` names, else the init_from model's renderer folder, else a fresh renderer of the backend
    ``renderer`` names (with ``font_file``); ``rendering`` / ``bigram_unit`` on top."""
    from pixel.render.choose import choose_renderer

    return choose_renderer(config.renderer, config.init_from, config.rendering, config.bigram_unit,
                           font_file=config.font_file, max_seq_length=config.max_seq_length)


def build_model(config: PretrainConfig) -> nn.Module:
    """PIXELForPreTraining from scratch (``model_variant`` with the ``model`` fields on top, seeded by ``seed``)
    or from ``init_from`` with every weight kept."""
    from pixel.model.config import PIXELConfig
    from pixel.model.pixel import PIXELForPreTraining

    image_size = [16, 16 * config.max_seq_length]
    if config.init_from:
        model = PIXELForPreTraining.from_pretrained(config.init_from)
        if list(model.config.image_size) != image_size:
            raise ValueError(f"init_from {config.init_from} has image_size {model.config.image_size} but "
                             f"max_seq_length {config.max_seq_length} needs {image_size}; set max_seq_length")
        model.config.mask_ratio = config.mask_ratio  # the run's masking, also for configs saying 0 (PIXEL-M4's)
        return model
    known = set(PIXELConfig().to_dict())
    for key in config.model:
        if key not in known:
            from pixel.train.config import unknown_key_error

            raise unknown_key_error(f"model.{key}", [f"model.{k}" for k in known], "the model settings")
    settings = {"mask_ratio": config.mask_ratio, "norm_pix_loss": True, **config.model, "image_size": image_size}
    torch.manual_seed(config.seed)
    return PIXELForPreTraining(PIXELConfig.variant(config.model_variant, **settings))


class PretrainingTask:
    """Masked-patch reconstruction of rendered text: a `pixel.train.trainer.Task`."""

    def __init__(self, config: PretrainConfig, model: nn.Module, renderer, masker=None):
        self.config, self.model, self.renderer = config, model, renderer
        self.masker = masker or SpanMasker(renderer.max_seq_length, config.mask_ratio, config.max_span_length,
                                           tuple(config.cumulative_span_weights))
        self.train_source = self._source(config.train_files, config.hf_split)
        self._eval_cache: list[dict[str, torch.Tensor]] | None = None

    def _source(self, files: list[str], split: str | None) -> TextSource | None:
        config = self.config
        if files:
            return TextSource(files=files, text_field=config.text_field, on_bad_input=config.on_bad_input)
        if config.hf_dataset and split:
            return TextSource(hf_dataset=config.hf_dataset, hf_config=config.hf_config, hf_split=split,
                              text_field=config.text_field, on_bad_input=config.on_bad_input)
        return None

    def train_dataset(self, rank: int, world_size: int, start_batch: int) -> PretrainingDataset:
        return PretrainingDataset(self.train_source, self.renderer, self.config.batch_size, seed=self.config.seed,
                                  rank=rank, world_size=world_size, start_batch=start_batch, repeat=True,
                                  min_patches=self.config.min_patches, masker=self.masker)

    def eval_batches(self) -> list[dict[str, torch.Tensor]] | None:
        """Rendered once and kept: the first validation_examples packed examples, masks fixed by the seed."""
        if self._eval_cache is None:
            source = self._source(self.config.validation_files, self.config.hf_validation_split)
            if source is None or self.config.validation_examples <= 0:
                return None
            dataset = PretrainingDataset(source, self.renderer, self.config.batch_size, seed=self.config.seed + 1,
                                         repeat=False, min_patches=self.config.min_patches, masker=self.masker)
            batches, count = [], 0
            for batch in dataset:
                batches.append(batch)
                count += len(batch["example_index"])
                if count >= self.config.validation_examples:
                    break
            self._eval_cache = batches
        return self._eval_cache

    def model_inputs(self, batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
        """pixel_values float32 [B, 3, 16, W] in [0, 1] (made on the device), attention_mask and patch_mask
        float32 [B, L]."""
        return {"pixel_values": to_model_inputs(batch["pixel_values"], device),
                "attention_mask": batch["attention_mask"].to(device, non_blocking=True),
                "patch_mask": batch["patch_mask"].to(device, non_blocking=True)}

    def validation_metrics(self, model: nn.Module, device: torch.device) -> None:
        return None  # the validation loss (eval_batches) is pretraining's metric

    def save_extras(self, folder: Path, model: nn.Module, history: dict[str, list]) -> None:
        """Renderer folder (config + font) and two pictures: reconstruction.png and loss_curve.png."""
        if hasattr(self.renderer, "save_pretrained"):
            self.renderer.save_pretrained(folder)
        try:
            from pixel import viz
        except ImportError:
            return
        if history.get("steps"):
            val = (history["val_steps"], history["val_loss"]) if history.get("val_steps") else None
            viz.loss_curve_figure(history["steps"], history["loss"], val=val).save(folder / "loss_curve.png")
        if hasattr(model, "config"):  # a PIXEL model (tests also train stand-in modules)
            self._reconstruction_picture(model, viz).save(folder / "reconstruction.png")

    def _reconstruction_picture(self, model: nn.Module, viz):
        batches = self.eval_batches()
        if batches:
            batch = {k: v[:1] for k, v in batches[0].items()}
        else:
            text = self.config.picture_text or "PIXEL reads text rendered as images."
            dataset = PretrainingDataset(TextSource(texts=[text]), self.renderer, 1, seed=self.config.seed,
                                         repeat=False, masker=self.masker)
            batch = next(iter(dataset))
        device = next(model.parameters()).device
        was_training = model.training
        model.eval()
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            inputs = self.model_inputs(batch, device)
            output = model(**inputs)
        model.train(was_training)
        return viz.reconstruction_figure(inputs["pixel_values"][0].cpu(), output.mask[0].cpu(),
                                         inputs["attention_mask"][0].cpu(), output.logits[0].float().cpu(),
                                         caption=f"loss {float(output.loss):.4f}")


def zero_prediction_loss(
    batches: list[dict[str, torch.Tensor]], masks: list[torch.Tensor] | None = None
) -> float:
    """Loss of predicting 0 for every masked patch (norm-pix targets): the baseline a model must beat.

    Per patch the target is `norm_pix_target`, (t - mean) / sqrt(var_unbiased + 1e-6) over its 16*16*3
    values, so its MSE against 0 is var_biased / (var_unbiased + 1e-6): ~1 for inked patches, 0 for blank
    ones. Averaged like the model's loss (over masked, attended patches of a batch), then over batches
    weighted by their size, as the trainer's validation loss. ``masks`` [b, L] per batch (the model's output
    ``mask``, which also holds the patches that fill the mask quota) replace the batches' ``patch_mask``.
    """
    total, weight = 0.0, 0
    for index, batch in enumerate(batches):
        patches = patchify(to_model_inputs(batch["pixel_values"], dtype=torch.float64))
        per_patch = norm_pix_target(patches).pow(2).mean(dim=-1)
        b = len(patches)
        mask = batch["patch_mask"] if masks is None else masks[index].cpu()
        counted = mask.double() * batch["attention_mask"].double()
        if counted.sum() > 0:
            total += float((per_patch * counted).sum() / counted.sum()) * b
            weight += b
    return total / weight if weight else math.nan
