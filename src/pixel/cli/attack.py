"""`pixel attack`: an orthographically attacked copy of a task file; also the attack options of `pixel evaluate`."""

from __future__ import annotations

import argparse
from pathlib import Path

ATTACK_NAMES = ("phonetic, full-swap, inner-swap, disemvowel, truncate, keyboard-typo, natural-typo, intrude, "
                "segmentation, confusable")
HELP = ("Write an attacked copy of a task file (CoNLL-U, CoNLL NER, CSV/TSV/JSONL, SQuAD): pixel attack KIND "
        "--data FILE --severity S [--output FILE] [--seed 42]; KIND: " + ATTACK_NAMES)
SEVERITY_HELP = "a fraction in [0, 1] (0.2) or a percentage (20)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("attack", metavar="KIND", help=f"attack: {ATTACK_NAMES}")
    parser.add_argument("--data", required=True, help="the task file to attack")
    parser.add_argument("--severity", required=True, help=SEVERITY_HELP)
    parser.add_argument("--output", help="the attacked copy (default: NAME.KIND<percent>.SUFFIX beside --data)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42, the original's)")
    parser.add_argument("--format", choices=("conllu", "ner", "classification", "qa"),
                        help="file format (default: from the file name and content)")
    parser.add_argument("--text_column", default="sentence", help="classification: the text column to attack")
    parser.add_argument("--pair_column", help="classification: the pair column, attacked too")


def run(args: argparse.Namespace) -> int:
    from pixel.attack import attack_file, parse_severity
    from pixel.attack.attacks import get_attack

    attack = get_attack(args.attack).name
    severity = parse_severity(args.severity)
    data = Path(args.data)
    output = Path(args.output) if args.output else data.with_name(f"{data.stem}.{attack}{severity * 100:g}{data.suffix}")
    columns = [c for c in (args.text_column, args.pair_column) if c]
    summary = attack_file(data, output, attack, severity, args.seed, args.format, columns)
    print(f"pixel attack: {summary.describe()}; written to {output}")
    return 0


def _checked(parse):
    """An argparse ``type`` that reports the library's ValueError message (before the model is loaded)."""
    def check(value: str):
        from pixel.attack import attacks

        try:
            return getattr(attacks, parse)(value)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    check.__name__ = parse
    return check


def add_evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    """`pixel evaluate --attack ...`: score the model on attacked copies of --data, made on the fly."""
    parser.add_argument("--attack", type=_checked("attack_names"), metavar="KIND[,KIND...]|all",
                        help="evaluate on attacked copies of --data: one attack at one severity gives its metrics; "
                             "several (or 'all', or several severities) give a robustness report (table, JSON, PNG)")
    parser.add_argument("--severity", type=_checked("parse_severities"), default="0.2,0.5,0.8",
                        help=f"with --attack: severities, comma-separated, each {SEVERITY_HELP} (default 0.2,0.5,0.8)")
    parser.add_argument("--attack_seed", type=int, default=42, help="with --attack: random seed (default 42)")
    parser.add_argument("--report", help="with a report: the bar chart PNG (default robustness_<data name>.png in the "
                                         "model folder; the JSON goes beside it)")


def evaluate_under_attack(args: argparse.Namespace, finetuned, source, folder: Path, name: str, device) -> int:
    """The --attack branch of `pixel evaluate` (``source``: the --data file)."""
    import json

    from pixel.attack.attacks import severity_label
    from pixel.attack.report import bar_chart
    from pixel.attack.robustness import evaluate_attacked, robustness_report
    from pixel.io import atomic_path
    from pixel.render.picture import check_png_path

    if not isinstance(source, str):
        raise ValueError("--attack needs the evaluation data as a file: give --data FILE instead of --dataset")
    attacks, severities = args.attack, args.severity
    if len(attacks) == 1 and len(severities) == 1 and not args.report:
        attack, severity = attacks[0], severities[0]
        output = Path(args.output) if args.output else folder / f"predictions_{name}_{attack}{severity * 100:g}.jsonl"
        metrics, summary = evaluate_attacked(finetuned, source, attack, severity, args.attack_seed, device,
                                             args.batch_size, output)
        print(f"pixel evaluate: {summary.describe()}")
        print(json.dumps({"task": finetuned.family.name, "data": source, "attack": attack, "severity": severity,
                          **metrics}, sort_keys=True))
        print(f"pixel evaluate: predictions written to {output}")
        return 0
    chart_path = check_png_path(args.report or folder / f"robustness_{name}.png")
    report = robustness_report(finetuned, source, attacks, severities, args.attack_seed, device, args.batch_size,
                               say=lambda line: print(f"pixel evaluate: {line}", flush=True))
    print(report.table())
    with atomic_path(chart_path) as temporary:
        bar_chart(report).save(temporary, format="PNG")
    json_path = chart_path.with_suffix(".json")
    with atomic_path(json_path) as temporary:
        temporary.write_text(json.dumps(report.to_json(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"pixel evaluate: {report.metric} clean vs {len(attacks)} attacks at "
          f"{', '.join(severity_label(s) for s in severities)}: chart {chart_path}, numbers {json_path}")
    return 0
