"""Fine-tune, evaluate, predict: the library functions behind ``pixel finetune / evaluate / predict``."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import torch

from pixel.data.tasks.hub import HubSplit
from pixel.data.tasks.labels import describe_unseen
from pixel.finetune.base import FinetuningTask, Inference, build_features
from pixel.finetune.config import FinetuneConfig
from pixel.finetune.model_folder import FinetunedModel, build_model, load_task_renderer, make_family
from pixel.io import write_json, write_text

FINETUNE_CONFIG = "finetune_config.yaml"


def _say(message: str, quiet: bool = False, stream: TextIO | None = None) -> None:
    if not quiet:
        print(message, file=stream or sys.stdout, flush=True)


def _read_report(family, path: str | HubSplit, split: str) -> str:
    squad = getattr(family, "last_read", None)
    if squad is not None and (squad.skipped_answers or squad.skipped_questions):
        return (f"{split} {path}: {squad.skipped_answers} answers not found at answer_start were skipped, "
                f"{squad.skipped_questions} questions left without an answer dropped")
    return ""


def finetune(config: FinetuneConfig, resume: str | None = None, overwrite_output_dir: bool = False
             ) -> dict[str, Any]:
    """Train ``config.task`` on ``config.data_source("train")`` (a file or a dataset split) and leave a
    self-contained fine-tuned model in output_dir (the best validation checkpoint when there is validation
    data, else the last). An output_dir holding another run is refused unless ``overwrite_output_dir`` (its
    files are deleted first; see `pixel.train.output_dir`). Returns the metrics:
    {"validation": {...}, "test": {...}} as far as the data exists."""
    from pixel.train import checkpoint as ckpt
    from pixel.train.config import save_config
    from pixel.train.distributed import is_main_process
    from pixel.train.output_dir import prepare_output_dir
    from pixel.train.trainer import Trainer

    config.validate()
    if is_main_process():
        prepare_output_dir(config.output_dir, FINETUNE_CONFIG, resume, overwrite_output_dir,
                           inputs=[config.model, config.renderer, resume])
    family = make_family(config.task, config.task_settings())
    train_source, validation_source = config.data_source("train"), config.data_source("validation")
    train_examples = family.read(train_source)
    report = _read_report(family, train_source, "train")
    validation_examples = family.read(validation_source) if validation_source is not None else None
    report_validation = _read_report(family, validation_source, "validation") if validation_source else ""
    vocabulary = family.vocabulary(train_examples)
    renderer = load_task_renderer(config.renderer, config.model, config.max_seq_length, config.rendering,
                                  config.bigram_unit)
    model = build_model(config, family, vocabulary)

    train_features, _ = build_features(family, train_examples, renderer, vocabulary)
    usable = [f for f in train_features if family.has_targets(f)]
    validation_features, unseen = None, None
    if validation_examples:
        validation_features, unseen = build_features(family, validation_examples, renderer, vocabulary)
    task = FinetuningTask(family, config, model, renderer, usable, vocabulary, validation_examples,
                          validation_features)
    trainer = Trainer(task, config)
    main = trainer.context.is_main
    if main and unseen is not None and vocabulary is not None:
        _say(f"pixel finetune: {describe_unseen(unseen, 'validation')}")
    if main:
        for line in (report, report_validation):
            if line:
                _say(f"pixel finetune: {line}")
        if len(usable) < len(train_features):
            _say(f"pixel finetune: {len(train_features) - len(usable)} training inputs have no usable label "
                 "(every word dropped by the renderer) and are skipped")
        labels = f"{len(vocabulary)} labels" if vocabulary is not None else "no label set (regression / QA)"
        _say(f"pixel finetune {config.task}: {len(train_examples)} training examples ({len(usable)} inputs), "
             f"{len(validation_examples or [])} validation, {labels}, {model.num_parameters() / 1e6:.2f}M "
             f"parameters, L {config.max_seq_length}, steps {config.max_steps}, device {trainer.device}, "
             f"output {config.output_dir}")
        save_config(config, Path(config.output_dir) / FINETUNE_CONFIG)
    if resume is not None:
        trainer.resume(resume)
    trainer.train()

    output = Path(config.output_dir)
    best = output / "best"
    if (best / ckpt.MODEL_WEIGHTS).is_file():
        ckpt.load_model_weights(trainer.model, best)
    results: dict[str, Any] = {"steps": trainer.step, "best": trainer.history.get("best")}
    if not main:
        return results
    trainer.model.save_pretrained(output)
    renderer.save_pretrained(output)
    finetuned = FinetunedModel(family, trainer.model, renderer, vocabulary)
    for split in ("validation", "test"):
        path = config.data_source(split)
        if path is not None:
            metrics, _ = evaluate_file(finetuned, path, trainer.device, config.eval_batch_size,
                                       output / f"predictions_{split}.jsonl", quiet=not config.progress)
            results[split] = metrics
    write_json(output / "results.json", results)
    return results


def evaluate_file(finetuned: FinetunedModel, path: str | HubSplit, device: torch.device | str, batch_size: int,
                  predictions_path: Path | None, num_workers: int | None = 0, quiet: bool = True
                  ) -> tuple[dict[str, float], list[Any]]:
    """Metrics of ``finetuned`` on a labelled data file (or dataset split); predictions written as JSON
    lines (atomically). Rendering runs in ``num_workers`` DataLoader workers (None: as many as pay);
    unless ``quiet``, a progress bar on stderr (on a terminal) and the throughput at the end."""
    family = finetuned.family
    examples = family.read(path)
    inference = Inference(finetuned.model, family, examples, finetuned.renderer, finetuned.vocabulary, device,
                          batch_size, num_workers=num_workers, progress=not quiet)
    predictions = [prediction for _example, prediction in inference]
    _say(f"evaluated {path}: {inference.summary()}", quiet, sys.stderr)
    metrics = family.score(examples, predictions)
    if inference.loss is not None:
        metrics["loss"] = inference.loss
    if inference.unseen:
        metrics["unseen_labels"] = int(sum(inference.unseen.values()))
    if predictions_path is not None:
        lines = [json.dumps(family.to_json(e, p), ensure_ascii=False) for e, p in zip(examples, predictions,
                                                                                        strict=True)]
        write_text(predictions_path, "\n".join(lines) + "\n")
    return metrics, predictions


def predict(finetuned: FinetunedModel, examples: list[Any], device: torch.device | str, batch_size: int = 32,
            num_workers: int | None = 0, quiet: bool = True) -> Iterator[tuple[Any, Any]]:
    """(example, prediction) pairs, streamed in input order (see `Inference`); unless ``quiet``, a progress bar
    on stderr (on a terminal) and the throughput at the end."""
    if not examples:
        raise ValueError("nothing to predict: give TEXT, --file FILE or inputs on stdin")
    inference = Inference(finetuned.model, finetuned.family, examples, finetuned.renderer, finetuned.vocabulary,
                          device, batch_size, with_targets=False, num_workers=num_workers, progress=not quiet)
    yield from inference
    _say(f"predicted {inference.summary()}", quiet, sys.stderr)
