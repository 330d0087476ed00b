"""Sequence classification and regression (GLUE/XNLI style): one text or a pair per example, one label."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pixel.data.tasks import classification as data
from pixel.data.tasks import hub, metrics
from pixel.data.tasks.hub import HubSplit
from pixel.data.tasks.labels import LabelVocabulary
from pixel.finetune.base import Family, Feature


class ClassificationFamily(Family):
    """settings: glue_strip_spaces, text_column, pair_column, label_column, regression.
    Prediction: {"label", "probability", "probabilities"} or {"score"} (regression)."""

    name = "classification"
    model_class_name = "PIXELForSequenceClassification"
    primary_metric = "accuracy"

    @property
    def regression(self) -> bool:
        return bool(self.settings.get("regression"))

    def read(self, path: str | Path | HubSplit, labelled: bool = True) -> list[data.ClassificationExample]:
        s = self.settings
        reader = hub.read_classification if isinstance(path, HubSplit) else data.read_classification
        return reader(
            path, text_column=s.get("text_column", "sentence"), pair_column=s.get("pair_column"),
            label_column=s.get("label_column", "label") if labelled else None, regression=self.regression,
            strip_spaces=bool(s.get("glue_strip_spaces", True)))

    def vocabulary(self, train_examples: list[data.ClassificationExample]) -> LabelVocabulary | None:
        return None if self.regression else data.label_vocabulary(train_examples)

    def features(self, index, example, renderer, vocabulary, unseen) -> list[Feature]:
        label: int | float | None = None
        if example.label is not None:
            ids, missing = data.encode_labels([example], vocabulary)
            unseen.update(missing)
            label = ids[0]
        encoding = renderer(example.renderer_input())
        return [Feature(data.classification_feature(encoding, label), index)]

    def reduce(self, batch, output, features) -> list[dict[str, Any]]:
        logits = output.logits.float().cpu().numpy()
        return [{"logits": row} for row in logits]

    def decode(self, examples, features: list[Feature], results, vocabulary) -> list[dict[str, Any]]:
        predictions: list[dict[str, Any]] = [{} for _ in examples]
        for feature, result in zip(features, results, strict=True):
            logits = result["logits"].astype(np.float64)
            if self.regression or vocabulary is None:
                predictions[feature.example_index] = {"score": float(logits[0])}
                continue
            probabilities = np.exp(logits - logits.max())
            probabilities /= probabilities.sum()
            best = int(probabilities.argmax())
            predictions[feature.example_index] = {
                "label": vocabulary.decode(best), "probability": float(probabilities[best]),
                "probabilities": {label: float(p) for label, p in zip(vocabulary.labels, probabilities,
                                                                       strict=True)}}
        return predictions

    def score(self, examples: Sequence[data.ClassificationExample], predictions) -> dict[str, float]:
        gold = [e.label for e in examples]
        if self.regression:
            values = [p["score"] for p in predictions]
            return {"pearson": metrics.pearson(values, gold), "spearmanr": metrics.spearman(values, gold),
                    "mse": float(np.mean((np.asarray(values) - np.asarray(gold, dtype=float)) ** 2))}
        labels = [p["label"] for p in predictions]
        classes = sorted(set(gold) | set(labels))
        scores = {"accuracy": metrics.accuracy(labels, gold), "f1_macro": metrics.f1_macro(labels, gold),
                  "matthews_correlation": metrics.matthews_corrcoef(labels, gold)}
        # GLUE's F1 is that of the positive class "1" (MRPC, QQP); with other names, of the second class.
        positive = "1" if "1" in classes else (classes[1] if len(classes) == 2 else None)
        scores["f1"] = metrics.f1_binary(labels, gold, positive) if positive is not None else scores["f1_macro"]
        return scores

    def to_json(self, example, prediction) -> dict[str, Any]:
        record: dict[str, Any] = {"text": example.text}
        if example.pair is not None:
            record["pair"] = example.pair
        if example.label is not None:
            record["gold"] = example.label
        return {**record, **prediction}

    def to_text(self, example, prediction) -> str:
        text = example.text if example.pair is None else f"{example.text} ||| {example.pair}"
        if "score" in prediction:
            return f"{prediction['score']:.4f}\t{text}"
        return f"{prediction['label']} ({prediction['probability']:.3f})\t{text}"

    def parse_inputs(self, texts: list[str], options: dict[str, Any]) -> list[data.ClassificationExample]:
        pairs = options.get("pair") or []
        if self.settings.get("pair_column") and len(pairs) != len(texts):
            raise ValueError(f"this model classifies text pairs: give one --pair TEXT per text ({len(texts)} "
                             f"texts, {len(pairs)} --pair), or JSON lines with \"text\" and \"pair\"")
        if pairs and not self.settings.get("pair_column"):
            raise ValueError("this model classifies single texts; --pair is not used")
        strip = bool(self.settings.get("glue_strip_spaces", True))
        clean = data.glue_strip_spaces if strip else (lambda t: t)
        return [data.ClassificationExample(text=clean(t), pair=clean(pairs[i]) if pairs else None)
                for i, t in enumerate(texts)]
