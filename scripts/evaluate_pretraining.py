"""Validation loss of a pretrained model next to the loss of predicting zeros for every masked patch,
on the same validation strips and masks (the model's own mask, quota fill included) as the training run's
validation.

Usage: python scripts/evaluate_pretraining.py MODEL_DIR RUN_CONFIG.yaml VALIDATION_FILE [--examples N]
(RUN_CONFIG: the run's recipe or its output folder's pretrain_config.yaml; it sets strip length, masking and seed.)
"""

from __future__ import annotations

import argparse
import json

import torch

from pixel.model.pixel import PIXELForPreTraining
from pixel.pretrain.config import PretrainConfig
from pixel.pretrain.task import PretrainingTask, zero_prediction_loss
from pixel.render.folder import load_renderer
from pixel.train.config import load_config


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("config")
    parser.add_argument("validation_file")
    parser.add_argument("--examples", type=int, default=None)
    args = parser.parse_args()
    overrides = [("validation_files", f"[{args.validation_file}]"), ("progress", "false"),
                 ("tensorboard", "false"), ("device", "cpu"), ("output_dir", "/tmp/pixel-evaluate")]
    if args.examples:
        overrides.append(("validation_examples", str(args.examples)))
    config = load_config(PretrainConfig, args.config, overrides)
    model = PIXELForPreTraining.from_pretrained(args.model).eval()
    task = PretrainingTask(config, model, load_renderer(args.model))
    batches = task.eval_batches()
    total, examples, masks = 0.0, 0, []
    with torch.no_grad():
        torch.manual_seed(config.seed)  # as Trainer.evaluate
        for batch in batches:
            output = model(**task.model_inputs(batch, torch.device("cpu")))
            total += output.loss.item() * len(batch["example_index"])
            examples += len(batch["example_index"])
            masks.append(output.mask)
    val_loss = total / examples
    zero = zero_prediction_loss(batches, masks)
    print(json.dumps({"validation_examples": examples, "val_loss": val_loss, "zero_prediction_loss": zero,
                      "ratio": val_loss / zero}, indent=1))


if __name__ == "__main__":
    main()
