"""Fixtures of the fine-tuning tests: a tiny pretrained PIXEL folder (model + renderer, L 64) made here."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TASK_DATA = ROOT / "tests" / "data" / "tasks"
CONFIGS = ROOT / "configs" / "finetune"


@pytest.fixture(scope="session")
def tiny_pretrained(tmp_path_factory) -> Path:
    """PIXELForPreTraining at a tiny size (image 16 x 1024) and the default PangoCairo renderer (L 64)."""
    pytest.importorskip("pangocairocffi")
    import torch

    from pixel.model.config import PIXELConfig
    from pixel.model.pixel import PIXELForPreTraining
    from pixel.render.pangocairo import PangoCairoTextRenderer

    folder = tmp_path_factory.mktemp("tiny-pretrained")
    torch.manual_seed(0)
    PIXELForPreTraining(PIXELConfig.variant("tiny", image_size=[16, 16 * 64])).save_pretrained(folder)
    PangoCairoTextRenderer(max_seq_length=64).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def pos_model(tiny_pretrained, tmp_path_factory) -> Path:
    """A POS model fine-tuned one step on tests/data/tasks/tiny.conllu (for evaluate/predict tests)."""
    from pixel.cli.main import main

    out = tmp_path_factory.mktemp("pos") / "model"
    assert main(finetune_command("pos", tiny_pretrained, TASK_DATA / "tiny.conllu", out, None, "--max_steps", "1")) == 0
    return out


def finetune_command(task: str, model: Path, train: Path, output: Path, validation: Path | None = None,
                     *extra: str) -> list[str]:
    """Arguments of a smoke-size `pixel finetune` run on the CPU."""
    command = ["finetune", task, "--config", str(CONFIGS / f"{task}.yaml"), "--smoke", "--model", str(model),
               "--train", str(train), "--output_dir", str(output), "--device", "cpu", "--progress", "false"]
    if validation is not None:
        command += ["--validation", str(validation)]
    else:
        command += ["--early_stopping_patience", "0"]
    return command + list(extra)
