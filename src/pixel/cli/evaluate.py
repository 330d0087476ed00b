"""`pixel evaluate`: metrics of a fine-tuned model on a labelled data file, and its predictions."""

from __future__ import annotations

import argparse

from pixel.cli.options import add_precision_argument

HELP = ("Evaluate a fine-tuned model: pixel evaluate --model DIR (--data FILE | --dataset NAME [--dataset_config "
        "CONFIG] [--split test]) [--output PREDICTIONS.jsonl]; under attack: --attack KIND|all [--severity S]")


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by evaluate and predict."""
    parser.add_argument("--model", required=True, help="fine-tuned model folder or Hub id")
    parser.add_argument("--task", choices=("classification", "pos", "ner", "parsing", "qa"),
                        help="task of a model whose config does not name it (original Team-PIXEL checkpoints)")
    parser.add_argument("--pooling_mode", help="pooling of an original classification checkpoint (mean, max, "
                                               "cls, pmaK); ours store it")
    parser.add_argument("--renderer", help="renderer folder, when the model folder has none")
    parser.add_argument("--batch_size", type=int, default=32, help="strips per forward pass")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 ...")
    add_precision_argument(parser)
    parser.add_argument("--num-workers", "--num_workers", type=int, default=None, metavar="N",
                        help="processes that render while the model runs (default: none for a few inputs, else "
                             "up to 4)")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar and no throughput line on stderr (the bar shows only on a terminal)")


def check_model_arguments(args: argparse.Namespace) -> None:
    if args.batch_size < 1:
        raise ValueError(f"--batch_size must be >= 1, got {args.batch_size}")
    if args.num_workers is not None and args.num_workers < 0:
        raise ValueError(f"--num-workers must be >= 0, got {args.num_workers}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from pixel.cli.attack import add_evaluate_arguments

    add_model_arguments(parser)
    parser.add_argument("--data", help="labelled file in the task's format")
    parser.add_argument("--dataset", help="a Hugging Face dataset instead of --data (needs pip install "
                                          "'pixel-lm[datasets]'); columns as in pixel finetune --dataset")
    parser.add_argument("--dataset_config", help="configuration of --dataset (e.g. sst2 of glue)")
    parser.add_argument("--split", default="test", help="split of --dataset (default test)")
    for key in ("tokens_column", "tags_column", "head_column", "deprel_column"):
        parser.add_argument(f"--{key}", help="column of --dataset (pos, ner, parsing; default as in finetune)")
    parser.add_argument("--output", help="predictions file (JSON lines); default: predictions_<data name>.jsonl "
                                         "in the model folder (current folder for a Hub id)")
    add_evaluate_arguments(parser)


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from pixel.finetune.model_folder import default_device, load_finetuned
    from pixel.finetune.run import evaluate_file
    from pixel.runtime import inference_autocast

    check_model_arguments(args)
    device = default_device(args.device)
    finetuned = load_finetuned(args.model, args.task, args.pooling_mode, args.renderer, device)
    folder = Path(args.model) if Path(args.model).is_dir() else Path.cwd()
    source = _data_source(args, finetuned.family.name)
    name = Path(source).stem if isinstance(source, str) else f"{source.name}_{source.split}".replace("/", "_")
    if args.attack:
        from pixel.cli.attack import evaluate_under_attack

        with inference_autocast(device, args.precision):
            return evaluate_under_attack(args, finetuned, source, folder, name, device)
    output = Path(args.output) if args.output else folder / f"predictions_{name}.jsonl"
    with inference_autocast(device, args.precision):
        metrics, _ = evaluate_file(finetuned, source, device, args.batch_size, output, args.num_workers,
                                   args.quiet)
    print(json.dumps({"task": finetuned.family.name, "data": str(source), **metrics}, sort_keys=True))
    print(f"pixel evaluate: predictions written to {output}")
    return 0


def _data_source(args: argparse.Namespace, task: str):
    """--data FILE, or a HubSplit of --dataset with the task's default columns (and the given ones)."""
    from pixel.data.tasks.hub import HubSplit
    from pixel.finetune.config import CONFIG_CLASSES

    if bool(args.data) == bool(args.dataset):
        raise ValueError("give the evaluation data: --data FILE or --dataset NAME (one of them)")
    if args.data:
        return args.data
    columns = CONFIG_CLASSES[task]().hub_columns()
    columns.update({key: getattr(args, key) for key in columns if getattr(args, key, None)})
    return HubSplit(args.dataset, args.split, args.dataset_config, columns)
