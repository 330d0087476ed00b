"""`pixel pretrain`: pretrain or continue pretraining a PIXEL model on text files."""

from __future__ import annotations

import argparse

from pixel.cli.options import add_run_arguments, collect_overrides

HELP = ("Pretrain a PIXEL model on text files: pixel pretrain --config FILE [--smoke] [--KEY VALUE ...] "
        "[--resume [DIR]]")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_arguments(parser, "YAML file of settings (configs/pretrain/*.yaml); keys not given keep their "
                              "defaults")
    parser.epilog = ("Any config key can be set on the command line: --max_steps 3 --output_dir out "
                     "--train_files 'corpus/*.txt' --model_variant small --model.hidden_size 64 --init_from "
                     "DIR_OR_HUB_ID --rendering bigrams|words|mono|continuous --bigram_unit grapheme")
    collect_overrides(parser)


def run(args: argparse.Namespace) -> int:
    from pixel.pretrain.config import PretrainConfig
    from pixel.pretrain.run import pretrain
    from pixel.train.checkpoint import resolve_resume
    from pixel.train.config import load_config, parse_overrides

    config = load_config(PretrainConfig, args.config, parse_overrides(args.overrides or []), smoke=args.smoke)
    config.validate()
    pretrain(config, resolve_resume(args.resume, config.output_dir), args.overwrite_output_dir)
    return 0
