"""A fine-tuned model on attacked copies of its evaluation file: one attack, or a whole robustness report.

The attacked copy is written to a temporary folder (format and text columns from the model's task) and
scored with :func:`pixel.finetune.run.evaluate_file`, as ``pixel evaluate`` scores the clean file.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .attacks import severity_label
from .files import AttackSummary, attack_file
from .report import RobustnessReport, main_metric

# File format of each task's evaluation data.
TASK_FORMATS = {"pos": "conllu", "parsing": "conllu", "ner": "ner", "classification": "classification", "qa": "qa"}


def text_columns(settings: dict[str, Any]) -> list[str]:
    """The columns a classification model reads: its text column and pair column."""
    return [c for c in (settings.get("text_column", "sentence"), settings.get("pair_column")) if c]


def evaluate_attacked(finetuned: Any, data: str | Path, attack: str, severity: float, seed: int, device: Any,
                      batch_size: int, predictions_path: Path | None = None) -> tuple[dict[str, float], AttackSummary]:
    """Metrics of ``finetuned`` (a FinetunedModel) on the attacked copy of ``data``, and what the attack did."""
    from pixel.finetune.run import evaluate_file

    family = finetuned.family
    with tempfile.TemporaryDirectory(prefix="pixel-attack-") as folder:
        copy = Path(folder) / Path(data).name
        summary = attack_file(data, copy, attack, severity, seed, TASK_FORMATS[family.name],
                              text_columns(family.settings))
        metrics, _ = evaluate_file(finetuned, str(copy), device, batch_size, predictions_path)
    return metrics, summary


def robustness_report(finetuned: Any, data: str | Path, attacks: list[str], severities: list[float], seed: int,
                      device: Any, batch_size: int, say: Callable[[str], None] = print) -> RobustnessReport:
    """Clean metrics and those of every (attack, severity) copy; ``say`` gets one progress line per run."""
    from pixel.finetune.run import evaluate_file

    family = finetuned.family
    clean, _ = evaluate_file(finetuned, str(data), device, batch_size, None)
    metric = main_metric(family.primary_metric, clean)
    say(f"clean: {metric} {clean[metric]:.4g}")
    report = RobustnessReport(family.name, Path(data).name, metric, seed, clean)
    for attack in attacks:
        for severity in severities:
            metrics, summary = evaluate_attacked(finetuned, data, attack, severity, seed, device, batch_size)
            report.attacked.setdefault(attack, {})[severity] = metrics
            report.summaries.setdefault(attack, {})[severity] = summary.describe()
            say(f"{attack} {severity_label(severity)}: {metric} {metrics[metric]:.4g} ({summary.changed} of "
                f"{summary.words} words changed)")
    return report
