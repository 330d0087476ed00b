"""`pixel pretrain`: pretrain or continue pretraining a PIXEL model on text files."""

from __future__ import annotations

import argparse

from pixel.cli.options import collect_overrides

HELP = "Pretrain a PIXEL model on text files: pixel pretrain --config FILE [--KEY VALUE ...] [--resume [DIR]]"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="YAML file of settings (configs/pretrain/*.yaml); keys not given keep "
                                         "their defaults")
    parser.add_argument("--resume", nargs="?", const="latest", default=None, metavar="CHECKPOINT",
                        help="continue a run: from the newest checkpoint in output_dir, or the given folder")
    parser.epilog = ("Any config key can be set on the command line: --max_steps 3 --output_dir out "
                     "--train_files 'corpus/*.txt' --model.hidden_size 64 --init_from DIR_OR_HUB_ID")
    collect_overrides(parser)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from pixel.train import checkpoint
    from pixel.train.config import load_config, parse_overrides, save_config
    from pixel.train.pretraining import PretrainConfig, PretrainingTask, build_model, build_renderer
    from pixel.train.trainer import Trainer

    config = load_config(PretrainConfig, args.config, parse_overrides(args.overrides or []))
    config.validate()
    resume_from = None
    if args.resume:
        resume_from = checkpoint.latest_checkpoint(config.output_dir) if args.resume == "latest" else Path(args.resume)
        if resume_from is None:
            raise FileNotFoundError(f"--resume: no checkpoint-* folder in {config.output_dir}; "
                                    "start without --resume or pass the checkpoint folder")
        if not resume_from.is_dir():
            raise FileNotFoundError(f"--resume: checkpoint folder not found: {resume_from}")
    renderer = build_renderer(config)
    model = build_model(config)
    task = PretrainingTask(config, model, renderer)
    trainer = Trainer(task, config)
    if trainer.context.is_main:
        save_config(config, Path(config.output_dir) / "pretrain_config.yaml")
    if resume_from is not None:
        trainer.resume(resume_from)
    if trainer.context.is_main:
        params = sum(p.numel() for p in model.parameters())
        print(f"pixel pretrain: {params / 1e6:.2f}M parameters, steps {trainer.step} -> {config.max_steps}, "
              f"global batch {config.batch_size * config.grad_accum_steps * trainer.context.world_size}, "
              f"device {trainer.device}, output {config.output_dir}")
    result = trainer.train()
    if trainer.context.is_main:
        shown = {k: round(v, 5) if isinstance(v, float) else v for k, v in result.items()}
        print(f"pixel pretrain: done at step {trainer.step}: {shown}")
    return 0
