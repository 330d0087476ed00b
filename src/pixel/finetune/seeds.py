"""One recipe fine-tuned once per seed (the original reported every number as a mean over 5 seeds).

Each seed's run is an ordinary `finetune` run in ``output_dir/seed-N``. Afterwards ``output_dir/summary.json``
holds every run's validation and test metrics and their mean and standard deviation (sample standard
deviation, n - 1, as over repeated runs; null for one seed), and ``output_dir/best`` is a relative symbolic link
to the folder of the seed with the best validation ``metric_for_best_model`` (``greater_is_better`` as in the
recipe; the first seed on a tie). Where no link can be made, ``best.txt`` names the folder instead.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pixel.io import write_json, write_text
from pixel.text_table import markdown_table

SUMMARY = "summary.json"
BEST = "best"
SPLITS = ("validation", "test")


def parse_seeds(text: str) -> list[int]:
    """"1,2,3" -> [1, 2, 3]; ValueError for anything but distinct non-negative integers."""
    pieces = [piece.strip() for piece in str(text).split(",")]
    if not all(piece.isdigit() for piece in pieces):
        raise ValueError(f"--seeds must be comma-separated non-negative integers (1,2,3,4,5), got {text!r}")
    seeds = [int(piece) for piece in pieces]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"--seeds lists a seed twice: {text!r}")
    return seeds


def seed_folder(output_dir: str | os.PathLike[str], seed: int) -> Path:
    return Path(output_dir) / f"seed-{seed}"


@dataclass
class SeedsSummary:
    """runs[seed][split][metric] (split: validation, test); mean / std[split][metric] over the seeds that have
    the metric (std None for one run); best_seed by ``metric`` on validation (None: no such metric)."""

    seeds: list[int]
    runs: dict[int, dict[str, dict[str, float]]]
    metric: str | None
    greater_is_better: bool
    best_seed: int | None = None

    def values(self, split: str, name: str) -> list[float]:
        return [self.runs[s][split][name] for s in self.seeds if name in self.runs[s].get(split, {})]

    def metric_names(self, split: str) -> list[str]:
        return sorted({name for s in self.seeds for name in self.runs[s].get(split, {})})

    def mean(self, split: str, name: str) -> float:
        return statistics.fmean(self.values(split, name))

    def std(self, split: str, name: str) -> float | None:
        values = self.values(split, name)
        return statistics.stdev(values) if len(values) > 1 else None

    def to_json(self) -> dict[str, Any]:
        moments = {kind: {split: {name: getattr(self, kind)(split, name) for name in self.metric_names(split)}
                          for split in SPLITS if self.metric_names(split)} for kind in ("mean", "std")}
        return {"seeds": self.seeds, "metric_for_best_model": self.metric, "greater_is_better": self.greater_is_better,
                "best_seed": self.best_seed,
                "best_folder": None if self.best_seed is None else seed_folder("", self.best_seed).name,
                "runs": {str(seed): {"folder": seed_folder("", seed).name, **self.runs[seed]} for seed in self.seeds},
                **moments}

    def table(self) -> str:
        """Markdown: one row per split and metric; mean, std, then each seed's value."""
        rows = []
        for split in SPLITS:
            for name in self.metric_names(split):
                std = self.std(split, name)
                by_seed = [f"{self.runs[s][split][name]:.4g}" if name in self.runs[s].get(split, {}) else ""
                           for s in self.seeds]
                rows.append([split, name, f"{self.mean(split, name):.4g}", "" if std is None else f"{std:.2g}",
                             *by_seed])
        return markdown_table(["split", "metric", "mean", "std", *(f"seed {s}" for s in self.seeds)], rows)


def finetune_seeds(config: Any, seeds: list[int], resume: bool = False, overwrite_output_dir: bool = False,
                   run: Callable[[Any, Any], dict[str, Any]] | None = None) -> SeedsSummary:
    """Fine-tune ``config`` once per seed, one after the other, in output_dir/seed-N; write summary.json and
    link the best seed's folder as output_dir/best. resume: reuse the runs that finished (their
    results.json) and continue an interrupted one from its newest checkpoint. overwrite_output_dir: each
    seed's folder may hold an earlier run (see `finetune`). run: `finetune` (tests may pass another)."""
    from pixel.finetune.run import finetune
    from pixel.train.checkpoint import latest_checkpoint

    run = run or functools.partial(finetune, overwrite_output_dir=overwrite_output_dir)
    if not seeds:
        raise ValueError("no seeds given: --seeds 1,2,3,4,5")
    root = Path(config.output_dir)
    link = root / BEST
    if link.exists() and not link.is_symlink():
        raise ValueError(f"{link} is a folder of a single fine-tuning run; use a new --output_dir for --seeds")
    runs: dict[int, dict[str, dict[str, float]]] = {}
    for seed in seeds:
        folder = seed_folder(root, seed)
        finished = folder / "results.json"
        if resume and finished.is_file():
            results = json.loads(finished.read_text(encoding="utf-8"))
            print(f"pixel finetune: seed {seed} already finished in {folder} (its results.json is used)", flush=True)
        else:
            checkpoint = latest_checkpoint(folder) if resume and folder.is_dir() else None
            print(f"pixel finetune: seed {seed} ({seeds.index(seed) + 1} of {len(seeds)}) in {folder}", flush=True)
            results = run(dataclasses.replace(config, seed=seed, output_dir=str(folder)), checkpoint)
        runs[seed] = {split: results[split] for split in SPLITS if results.get(split) is not None}
    summary = SeedsSummary(seeds, runs, config.metric_for_best_model, config.metric_greater_is_better())
    if os.environ.get("RANK", "0") != "0":  # torchrun: rank 0 alone has the metrics and writes
        return summary
    candidates = [s for s in seeds if summary.metric in runs[s].get("validation", {})]
    if candidates:
        from pixel.train.trainer import best_position

        scores = [runs[s]["validation"][summary.metric] for s in candidates]
        summary.best_seed = candidates[best_position(scores, summary.greater_is_better)]
        link_best(root, seed_folder(root, summary.best_seed).name)
    write_json(root / SUMMARY, summary.to_json())
    return summary


def link_best(root: Path, target: str) -> None:
    """root/best -> target (relative symbolic link, replaced atomically); best.txt naming it where links fail."""
    temporary = root / f".{BEST}.{os.getpid()}"
    try:
        temporary.unlink(missing_ok=True)
        os.symlink(target, temporary, target_is_directory=True)
        os.replace(temporary, root / BEST)
    except OSError as err:
        temporary.unlink(missing_ok=True)
        write_text(root / "best.txt", target + "\n")
        print(f"pixel finetune: could not link {root / BEST} -> {target} ({err}); wrote {root / 'best.txt'} "
              "naming the best seed's folder instead", flush=True)
