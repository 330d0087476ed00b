"""Pretrain: the library function behind ``pixel pretrain``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pixel.pretrain.config import PretrainConfig

PRETRAIN_CONFIG = "pretrain_config.yaml"


def pretrain(config: PretrainConfig, resume: str | Path | None = None,
             overwrite_output_dir: bool = False) -> dict[str, Any]:
    """Pretrain (or, with ``init_from``, continue pretraining) a PIXEL model on ``config``'s text and leave
    checkpoints (complete model folders with renderer and pictures) in output_dir; ``resume``: a checkpoint
    folder to continue from exactly. An output_dir holding another run is refused unless
    ``overwrite_output_dir`` (its files are deleted first; see `pixel.train.output_dir`). Returns the last
    logged metrics."""
    from pixel.pretrain.task import PretrainingTask, build_model, build_renderer
    from pixel.train.config import save_config
    from pixel.train.distributed import is_main_process
    from pixel.train.output_dir import prepare_output_dir
    from pixel.train.trainer import Trainer

    config.validate()
    if is_main_process():
        prepare_output_dir(config.output_dir, PRETRAIN_CONFIG, resume, overwrite_output_dir,
                           inputs=[config.init_from, resume])
    renderer, renderer_source = build_renderer(config)
    model = build_model(config)
    trainer = Trainer(PretrainingTask(config, model, renderer), config)
    main = trainer.context.is_main
    if main:
        save_config(config, Path(config.output_dir) / PRETRAIN_CONFIG)
    if resume is not None:
        trainer.resume(resume)
    if main:
        print(f"pixel pretrain: {model.num_parameters() / 1e6:.2f}M parameters, steps {trainer.step} -> "
              f"{config.max_steps}, global batch "
              f"{config.batch_size * config.grad_accum_steps * trainer.context.world_size}, device "
              f"{trainer.device}, output {config.output_dir}, renderer {renderer_source}", flush=True)
    result = trainer.train()
    if main:
        shown = {k: round(v, 5) if isinstance(v, float) else v for k, v in result.items()}
        print(f"pixel pretrain: done at step {trainer.step}: {shown}", flush=True)
    return result
