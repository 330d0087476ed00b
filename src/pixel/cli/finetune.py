"""`pixel finetune TASK`: fine-tune a PIXEL model on a task with the original's recipe as defaults."""

from __future__ import annotations

import argparse

from pixel.cli.options import add_run_arguments, collect_overrides

HELP = ("Fine-tune a PIXEL model: pixel finetune {classification,pos,ner,parsing,qa} --model DIR_OR_HUB_ID "
        "--train FILE --validation FILE [--test FILE] --output_dir DIR [--KEY VALUE ...]; or a Hugging Face "
        "dataset instead of files: --dataset NAME [--dataset_config CONFIG] [--test_split test]")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from pixel.finetune.config import TASKS

    parser.add_argument("task", choices=TASKS, help="task family")
    add_run_arguments(parser, "YAML file of settings (configs/finetune/*.yaml); the task's recipe of the "
                              "original is the default")
    parser.epilog = ("Any setting can be given as --KEY VALUE: --max_steps 2000 --learning_rate 5e-5 "
                     "--max_seq_length 128 --batch_size 32 --eval_every 200 --early_stopping_patience 5 "
                     "--seed 1 --device cpu; rendering (default: the model's renderer folder): --rendering "
                     "bigrams|words|mono|continuous --bigram_unit grapheme --renderer DIR|pangocairo; "
                     "classification: --text_column --pair_column --label_column --regression --pooling_mode; "
                     "qa: --doc_stride --question_max_length --version_2_with_negative. "
                     "Hub data (needs pip install 'pixel-lm[datasets]'): --dataset NAME --dataset_config CONFIG "
                     "--train_split train --validation_split validation --test_split test; pos/ner: "
                     "--tokens_column tokens --tags_column upos|ner_tags; parsing: --head_column head "
                     "--deprel_column deprel")
    collect_overrides(parser)


def run(args: argparse.Namespace) -> int:
    import json

    from pixel.finetune.config import CONFIG_CLASSES
    from pixel.finetune.run import finetune
    from pixel.train.checkpoint import resolve_resume
    from pixel.train.config import load_config, parse_overrides

    overrides = parse_overrides(args.overrides or [])
    if any(key == "task" for key, _ in overrides):
        raise ValueError("the task is the first argument (pixel finetune pos ...), not --task")
    config = load_config(CONFIG_CLASSES[args.task], args.config, overrides, smoke=args.smoke)
    if config.task != args.task:
        raise ValueError(f"config file {args.config} is a {config.task!r} recipe, not {args.task!r}")
    config.validate()
    results = finetune(config, resolve_resume(args.resume, config.output_dir), args.overwrite_output_dir)
    if results.get("validation") is not None or results.get("test") is not None:
        shown = {k: v for k, v in results.items() if k in ("validation", "test")}
        print(f"pixel finetune: {json.dumps(shown, sort_keys=True)}")
    print(f"pixel finetune: model saved in {config.output_dir} (evaluate: pixel evaluate --model "
          f"{config.output_dir} --data FILE; predict: pixel predict --model {config.output_dir} TEXT)")
    return 0
