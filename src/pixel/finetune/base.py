"""What every fine-tuning task family shares: features, the model run over them, the training stream and the
trainer's task object.

A *family* (classification, tagging, parsing, qa) knows its data: it reads files into examples, renders them
into features, turns model outputs into per-example predictions and scores them. Everything else (batching,
running the model, the endless shuffled training stream, validation metrics for the trainer) lives here.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import IterableDataset

from pixel.data.tasks.labels import IGNORE_INDEX, LabelVocabulary
from pixel.render.batch import collate, to_model_inputs

# Keys of a batch that hold training targets (dropped for prediction, or when a batch has no target left).
TARGET_KEYS = ("labels", "arc_labels", "rel_labels", "start_positions", "end_positions")


@dataclass
class Feature:
    """One model input of one example. inputs: feature dict for `pixel.render.batch.collate` (pixel_values
    uint8 [16, W], num_text_patches and the task's fields); meta: what decoding needs (word starts, QA
    offsets)."""

    inputs: dict[str, Any]
    example_index: int
    meta: Any = None


class Family:
    """Interface of a task family; see classification.py, tagging.py, parsing.py and qa.py."""

    name: str = ""
    model_class_name: str = ""
    primary_metric: str = ""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings

    def read(self, path: str | Path, labelled: bool = True) -> list[Any]:
        raise NotImplementedError

    def vocabulary(self, train_examples: list[Any]) -> LabelVocabulary | None:
        """Label vocabulary built from the training examples (None: the family has no label set)."""
        raise NotImplementedError

    def features(self, index: int, example: Any, renderer: Any, vocabulary: LabelVocabulary | None,
                 unseen: Any) -> list[Feature]:
        """Render one example. Unseen-label counts are added to ``unseen`` (a Counter)."""
        raise NotImplementedError

    def has_targets(self, feature: Feature) -> bool:
        """False for a feature the loss cannot use (every label ignored); training skips those."""
        return True

    def reduce(self, batch: dict[str, Any], output: Any, features: Sequence[Feature]) -> list[dict[str, Any]]:
        """Small numpy results per feature from one batch's model output."""
        raise NotImplementedError

    def decode(self, examples: list[Any], features: list[Feature], results: list[dict[str, Any]],
               vocabulary: LabelVocabulary | None) -> list[Any]:
        """One prediction per example."""
        raise NotImplementedError

    def score(self, examples: list[Any], predictions: list[Any]) -> dict[str, float]:
        raise NotImplementedError

    def to_json(self, example: Any, prediction: Any) -> dict[str, Any]:
        raise NotImplementedError

    def to_text(self, example: Any, prediction: Any) -> str:
        raise NotImplementedError

    def parse_inputs(self, texts: list[str], options: dict[str, Any]) -> list[Any]:
        """Examples for ``pixel predict`` from its command-line texts."""
        raise NotImplementedError

    def parse_record(self, record: dict[str, Any], where: str) -> Any:
        """One example for ``pixel predict --file`` from a JSON line: {"text": ...} (a sentence of words for
        POS, NER and parsing, or "words": [...]) and "pair" for pair models. ``where`` names it in errors."""
        text, pair = record.get("text"), record.get("pair")
        words = record.get("words", record.get("tokens"))
        if text is None and isinstance(words, list) and all(isinstance(w, str) for w in words):
            text = " ".join(words)
        if not isinstance(text, str) or not (pair is None or isinstance(pair, str)):
            raise ValueError(f"{where}: expected a JSON object with a \"text\" string (and \"pair\" for text "
                             f"pairs), got {json.dumps(record, ensure_ascii=False)[:80]}")
        try:
            return self.parse_inputs([text], {"pair": None if pair is None else [pair]})[0]
        except ValueError as err:
            raise ValueError(f"{where}: {err}") from None


# ---------------------------------------------------------------------------------------------------- batches


def model_inputs(batch: dict[str, Any], device: torch.device | str) -> dict[str, torch.Tensor]:
    """Batch -> keyword arguments of the model on ``device``: pixel_values float32 [B, 3, 16, W] in [0, 1],
    attention_mask [B, L] and the task fields (tensors only). Targets are dropped when none is usable
    (every label -100), so that evaluation of such a batch gives no NaN loss."""
    inputs = {"pixel_values": to_model_inputs(batch["pixel_values"], device)}
    for key, value in batch.items():
        if key not in ("pixel_values", "num_text_patches") and isinstance(value, torch.Tensor):
            inputs[key] = value.to(device, non_blocking=True)
    for key in ("labels", "arc_labels"):
        value = inputs.get(key)
        if value is not None and not value.dtype.is_floating_point and not bool((value != IGNORE_INDEX).any()):
            for target in TARGET_KEYS:
                inputs.pop(target, None)
    return inputs


def feature_batch(features: Sequence[Feature], with_targets: bool = True) -> dict[str, Any]:
    """The batch (`pixel.render.batch.collate`) of ``features``; without targets for prediction."""
    batch = collate([f.inputs for f in features])
    if not with_targets:
        for key in TARGET_KEYS:
            batch.pop(key, None)
    return batch


@torch.no_grad()
def run_model(model: nn.Module, family: Family, features: list[Feature], device: torch.device | str,
              batch_size: int, with_targets: bool = True) -> tuple[list[dict[str, Any]], float | None]:
    """Model outputs of every feature (``family.reduce``) and the mean loss (None without targets).
    The caller sets eval mode."""
    results: list[dict[str, Any]] = []
    loss_sum, loss_weight = 0.0, 0
    for start in range(0, len(features), batch_size):
        chunk = features[start : start + batch_size]
        batch = feature_batch(chunk, with_targets)
        output = model(**model_inputs(batch, device))
        if getattr(output, "loss", None) is not None:
            loss_sum += float(output.loss) * len(chunk)
            loss_weight += len(chunk)
        results.extend(family.reduce(batch, output, chunk))
    return results, (loss_sum / loss_weight if loss_weight else None)


def build_features(family: Family, examples: list[Any], renderer: Any,
                   vocabulary: LabelVocabulary | None) -> tuple[list[Feature], Any]:
    """Features of all examples and the Counter of labels unseen in training."""
    unseen: Counter[str] = Counter()
    features: list[Feature] = []
    for index, example in enumerate(examples):
        features.extend(family.features(index, example, renderer, vocabulary, unseen))
    return features, unseen


def predict_examples(model: nn.Module, family: Family, examples: list[Any], renderer: Any,
                     vocabulary: LabelVocabulary | None, device: torch.device | str, batch_size: int,
                     with_targets: bool = True) -> tuple[list[Any], float | None, Any]:
    """Predictions of ``examples`` (one per example), the mean loss and the unseen-label Counter (see
    :class:`Inference`)."""
    inference = Inference(model, family, examples, renderer, vocabulary, device, batch_size, with_targets)
    predictions = [prediction for _example, prediction in inference]
    return predictions, inference.loss, inference.unseen


def default_workers(num_examples: int, batch_size: int) -> int:
    """DataLoader workers that render for :class:`Inference`: none for a few batches (starting workers costs
    more), else up to 4, leaving a core to the model."""
    if num_examples <= 2 * batch_size:
        return 0
    return max(1, min(4, (os.cpu_count() or 1) - 1))


class _RenderedChunks(torch.utils.data.Dataset):
    """Item k: (features, unseen-label Counter) of examples [k * size, (k + 1) * size), rendered where the
    DataLoader runs it (a worker); an error is returned, to be raised unwrapped in the main process."""

    def __init__(self, family: Family, examples: list[Any], renderer: Any, vocabulary: LabelVocabulary | None,
                 size: int) -> None:
        self.family, self.examples, self.renderer, self.vocabulary, self.size = (family, examples, renderer,
                                                                                 vocabulary, size)

    def __len__(self) -> int:
        return math.ceil(len(self.examples) / self.size)

    def __getitem__(self, index: int) -> tuple[list[Feature], Counter] | Exception:
        chunk = self.examples[index * self.size : (index + 1) * self.size]
        try:
            features, unseen = build_features(self.family, chunk, self.renderer, self.vocabulary)
        except Exception as err:  # noqa: BLE001 (DataLoader would wrap it in its own traceback text)
            return err
        return features, unseen


def _as_is(item: Any) -> Any:
    return item


class Inference:
    """Predictions of many examples as a stream: chunks of ``batch_size`` examples are rendered in DataLoader
    workers (``num_workers``; None: :func:`default_workers`) while the model runs the previous chunk, and
    iterating gives ``(example, prediction)`` in input order, chunk by chunk (memory stays at a few batches).

    ``progress``: a progress bar with ETA on stderr (only when stderr is a terminal). After the iteration:
    ``loss`` (mean over features, None without targets), ``unseen`` (labels unseen in training, a Counter),
    ``strips`` (model inputs), ``seconds`` and :meth:`summary`. The model is in eval mode meanwhile.
    """

    def __init__(self, model: nn.Module, family: Family, examples: list[Any], renderer: Any,
                 vocabulary: LabelVocabulary | None, device: torch.device | str, batch_size: int,
                 with_targets: bool = True, num_workers: int | None = 0, progress: bool = False) -> None:
        self.model, self.family, self.examples, self.renderer = model, family, examples, renderer
        self.vocabulary, self.device, self.batch_size, self.with_targets = vocabulary, device, batch_size, with_targets
        self.num_workers = default_workers(len(examples), batch_size) if num_workers is None else num_workers
        self.progress = progress
        self.loss: float | None = None
        self.unseen: Counter[str] = Counter()
        self.strips = 0
        self.seconds = 0.0

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        from torch.utils.data import DataLoader
        from tqdm.auto import tqdm

        chunks = _RenderedChunks(self.family, self.examples, self.renderer, self.vocabulary, self.batch_size)
        workers = min(self.num_workers, len(chunks))
        loader = DataLoader(chunks, batch_size=None, collate_fn=_as_is, num_workers=workers,
                            prefetch_factor=2 if workers else None)
        bar = tqdm(total=len(self.examples), unit="input", file=sys.stderr, dynamic_ncols=True,
                   disable=not (self.progress and sys.stderr.isatty()))
        loss_sum, loss_weight = 0.0, 0
        started = time.perf_counter()
        was_training = self.model.training
        self.model.eval()
        try:
            for index, item in enumerate(loader):
                if isinstance(item, Exception):
                    raise item
                features, unseen = item
                self.unseen.update(unseen)
                chunk = self.examples[index * self.batch_size : (index + 1) * self.batch_size]
                results, loss = run_model(self.model, self.family, features, self.device, self.batch_size,
                                          self.with_targets) if features else ([], None)
                if loss is not None:
                    loss_sum, loss_weight = loss_sum + loss * len(features), loss_weight + len(features)
                self.strips += len(features)
                yield from zip(chunk, self.family.decode(chunk, features, results, self.vocabulary), strict=True)
                self.seconds = time.perf_counter() - started
                bar.update(len(chunk))
                bar.set_postfix_str(f"{self.strips / max(self.seconds, 1e-9):.1f} strips/s")
        finally:
            bar.close()
            self.model.train(was_training)
        if not self.strips and self.examples:
            raise ValueError("no model input could be built from the examples")
        self.loss = loss_sum / loss_weight if loss_weight else None

    def summary(self) -> str:
        """E.g. "2000 inputs, 2000 strips in 40.1 s: 49.9 strips/s"."""
        rate = self.strips / self.seconds if self.seconds else 0.0
        return f"{len(self.examples)} inputs, {self.strips} strips in {self.seconds:.1f} s: {rate:.1f} strips/s"


# ---------------------------------------------------------------------------------------------------- training


class FeatureStream(IterableDataset):
    """Endless micro-batches of training features, reshuffled each epoch (seeded), resumable.

    The job's micro-batch k covers positions [k * B * W, (k + 1) * B * W) of the stream of epoch
    permutations (B = batch size per rank, W = world size); rank r takes its B-slice.
    """

    def __init__(self, features: list[Feature], batch_size: int, seed: int, rank: int = 0, world_size: int = 1,
                 start_batch: int = 0) -> None:
        if not features:
            raise ValueError("no training features: the training file gave no usable example")
        self.features, self.batch_size, self.seed = features, batch_size, seed
        self.rank, self.world_size, self.start_batch = rank, world_size, start_batch

    def _order(self, epoch: int) -> np.ndarray:
        return np.random.default_rng([self.seed, epoch]).permutation(len(self.features))

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        workers, worker = (info.num_workers, info.id) if info else (1, 0)
        n, size = len(self.features), self.batch_size
        batch_index = self.start_batch + worker
        orders: dict[int, np.ndarray] = {}
        while True:
            first = batch_index * size * self.world_size + self.rank * size
            chosen = []
            for position in range(first, first + size):
                epoch = position // n
                if epoch not in orders:
                    orders = {epoch: self._order(epoch)}
                chosen.append(self.features[orders[epoch][position % n]])
            yield feature_batch(chosen)
            batch_index += workers


class FinetuningTask:
    """The trainer's task (a `pixel.train.trainer.Task`) for any family."""

    def __init__(self, family: Family, config: Any, model: nn.Module, renderer: Any,
                 train_features: list[Feature], vocabulary: LabelVocabulary | None,
                 validation_examples: list[Any] | None = None,
                 validation_features: list[Feature] | None = None) -> None:
        """validation_features: those of validation_examples when already built (else built on first use)."""
        self.family, self.config, self.model, self.renderer = family, config, model, renderer
        self.train_features, self.vocabulary = train_features, vocabulary
        self.validation_examples = validation_examples
        self._validation_features = validation_features

    def train_dataset(self, rank: int, world_size: int, start_batch: int) -> FeatureStream:
        return FeatureStream(self.train_features, self.config.batch_size, self.config.seed, rank, world_size,
                             start_batch)

    def eval_batches(self) -> None:
        return None  # validation_metrics reports the loss with the metrics

    def model_inputs(self, batch: dict[str, Any], device: torch.device) -> dict[str, torch.Tensor]:
        return model_inputs(batch, device)

    def save_extras(self, folder: Path, model: nn.Module | None, history: dict[str, list]) -> None:
        self.renderer.save_pretrained(folder)

    def validation_metrics(self, model: nn.Module, device: torch.device) -> dict[str, float] | None:
        if not self.validation_examples:
            return None
        if self._validation_features is None:
            self._validation_features, _ = build_features(self.family, self.validation_examples, self.renderer,
                                                          self.vocabulary)
        results, loss = run_model(model, self.family, self._validation_features, device,
                                  self.config.eval_batch_size)
        predictions = self.family.decode(self.validation_examples, self._validation_features, results,
                                         self.vocabulary)
        metrics = self.family.score(self.validation_examples, predictions)
        if loss is not None and math.isfinite(loss):
            metrics["loss"] = loss
        return metrics
