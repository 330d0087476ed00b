"""`pixel predict`: readable predictions of a fine-tuned model for texts given on the command line, in a file
or on stdin."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pixel.cli.options import decode_utf8, read_stdin, stdin_is_piped

HELP = ("Predict with a fine-tuned model: pixel predict --model DIR TEXT... | --file FILE (one text per line, or "
        "JSON lines) | stdin (QA: --question Q --context C; pairs: --pair TEXT per text) [--json]")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from pixel.cli.evaluate import add_model_arguments

    add_model_arguments(parser)
    parser.add_argument("texts", nargs="*", metavar="TEXT", help="texts (a sentence of words for POS, NER and "
                                                                 "parsing: split at spaces); '-': read stdin")
    parser.add_argument("--file", metavar="FILE", help="inputs, one text per line (blank lines skipped), or JSON "
                        "lines (a .jsonl file, or a first line starting with '{'): {\"text\": ..., \"pair\": ...} or, "
                        "for QA, {\"question\": ..., \"context\": ..., \"id\": ...}; '-': stdin (also read when no "
                        "TEXT is given and stdin is not a terminal)")
    parser.add_argument("--pair", action="append", help="second text of a pair (one per TEXT)")
    parser.add_argument("--question", help="QA: the question")
    parser.add_argument("--context", help="QA: the passage holding the answer")
    parser.add_argument("--json", action="store_true", help="one JSON object per input instead of text")


def read_inputs(source: str, family) -> list:
    """Examples of a --file (or stdin for '-'): JSON lines or one text per line, each named by its line."""
    if source == "-":
        text, name = read_stdin("input"), "stdin"
    else:
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"--file {source}: no such file")
        text, name = decode_utf8(path.read_bytes(), source), source
    lines = [(number, line) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    jsonl = name.endswith(".jsonl") or (bool(lines) and lines[0][1].lstrip().startswith("{"))
    examples = []
    for number, line in lines:
        where = f"{name}:{number}"
        if not jsonl:
            examples.append(family.parse_record({"text": line}, where))
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f"{where}: invalid JSON line ({err.msg}); give JSON lines or one text per line") from None
        if not isinstance(record, dict):
            raise ValueError(f"{where}: expected a JSON object per line, got {line[:60]}")
        examples.append(family.parse_record(record, where))
    if not examples:
        raise ValueError(f"nothing to predict: {name} holds no input")
    return examples


def run(args: argparse.Namespace) -> int:
    from pixel.cli.evaluate import check_model_arguments
    from pixel.finetune.model_folder import default_device, load_finetuned
    from pixel.finetune.run import predict
    from pixel.runtime import inference_autocast

    check_model_arguments(args)
    texts = list(args.texts)
    source = args.file
    if texts == ["-"] or (source is None and not texts and args.question is None and stdin_is_piped()):
        source, texts = "-", []
    if source is not None and (texts or args.question or args.context or args.pair):
        raise ValueError("--file (or stdin) gives all inputs: drop TEXT, --pair, --question and --context")
    device = default_device(args.device)
    finetuned = load_finetuned(args.model, args.task, args.pooling_mode, args.renderer, device)
    family = finetuned.family
    if source is not None:
        examples = read_inputs(source, family)
    else:
        examples = family.parse_inputs(texts, {"pair": args.pair, "question": args.question,
                                               "context": args.context})
    with inference_autocast(device, args.precision):
        for example, prediction in predict(finetuned, examples, device, args.batch_size, args.num_workers,
                                           args.quiet):
            if args.json:
                print(json.dumps(family.to_json(example, prediction), ensure_ascii=False), flush=True)
            else:
                print(family.to_text(example, prediction), flush=True)
    return 0
