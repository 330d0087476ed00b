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
    parser.allow_abbrev = False  # --seed N is a config key (collected below), not an abbreviation of --seeds
    parser.add_argument("--seeds", metavar="N,N,...",
                        help="run the recipe once per seed (1,2,3,4,5), each in output_dir/seed-N, then print and "
                             "write (summary.json) the mean and standard deviation of every metric, and link the "
                             "best seed's folder as output_dir/best; with --resume, finished seeds are kept")
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
    if args.seeds is not None and any(key == "seed" for key, _ in overrides):
        raise ValueError("give either --seed N (one run) or --seeds N,N,... (one run per seed), not both")
    config = load_config(CONFIG_CLASSES[args.task], args.config, overrides, smoke=args.smoke)
    if config.task != args.task:
        raise ValueError(f"config file {args.config} is a {config.task!r} recipe, not {args.task!r}")
    config.validate()
    if args.seeds is not None:
        return _run_seeds(config, args)
    results = finetune(config, resolve_resume(args.resume, config.output_dir), args.overwrite_output_dir)
    if results.get("validation") is not None or results.get("test") is not None:
        shown = {k: v for k, v in results.items() if k in ("validation", "test")}
        print(f"pixel finetune: {json.dumps(shown, sort_keys=True)}")
    print(f"pixel finetune: model saved in {config.output_dir} (evaluate: pixel evaluate --model "
          f"{config.output_dir} --data FILE; predict: pixel predict --model {config.output_dir} TEXT)")
    return 0


def _run_seeds(config, args: argparse.Namespace) -> int:
    from pixel.finetune.seeds import BEST, finetune_seeds, parse_seeds

    seeds = parse_seeds(args.seeds)
    if args.resume not in (None, "latest"):
        raise ValueError("--resume with --seeds continues every seed from its own folder: give --resume without "
                         "a checkpoint")
    summary = finetune_seeds(config, seeds, resume=args.resume is not None,
                             overwrite_output_dir=args.overwrite_output_dir)
    print(f"pixel finetune: {len(seeds)} seeds, mean and standard deviation (n - 1):")
    print(summary.table())
    if summary.best_seed is None:
        print(f"pixel finetune: no validation {summary.metric or 'metric_for_best_model'} to choose the best seed by; "
              f"no {BEST} link")
    else:
        direction = "higher" if summary.greater_is_better else "lower"
        print(f"pixel finetune: best seed {summary.best_seed} by validation {summary.metric} ({direction} is "
              f"better): {config.output_dir}/{BEST} -> seed-{summary.best_seed}")
    print(f"pixel finetune: summary written to {config.output_dir}/summary.json")
    return 0
