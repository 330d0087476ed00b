"""`pixel predict`: readable predictions of a fine-tuned model for texts given on the command line."""

from __future__ import annotations

import argparse

HELP = ("Predict with a fine-tuned model: pixel predict --model DIR TEXT... (QA: --question Q --context C; "
        "pairs: --pair TEXT per text) [--json]")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from pixel.cli.evaluate import add_model_arguments

    add_model_arguments(parser)
    parser.add_argument("texts", nargs="*", metavar="TEXT", help="texts (a sentence of words for POS, NER and "
                                                                 "parsing: split at spaces)")
    parser.add_argument("--pair", action="append", help="second text of a pair (one per TEXT)")
    parser.add_argument("--question", help="QA: the question")
    parser.add_argument("--context", help="QA: the passage holding the answer")
    parser.add_argument("--json", action="store_true", help="one JSON object per input instead of text")


def run(args: argparse.Namespace) -> int:
    import json

    from pixel.finetune.model_folder import default_device, load_finetuned
    from pixel.finetune.run import predict_texts
    from pixel.runtime import inference_autocast

    if args.batch_size < 1:
        raise ValueError(f"--batch_size must be >= 1, got {args.batch_size}")
    device = default_device(args.device)
    finetuned = load_finetuned(args.model, args.task, args.pooling_mode, args.renderer, device)
    options = {"pair": args.pair, "question": args.question, "context": args.context}
    with inference_autocast(device, args.precision):
        results = predict_texts(finetuned, list(args.texts), options, device, args.batch_size)
    for example, prediction in results:
        family = finetuned.family
        if args.json:
            print(json.dumps(family.to_json(example, prediction), ensure_ascii=False))
        else:
            print(family.to_text(example, prediction))
    return 0
