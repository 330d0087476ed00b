"""Word tagging: POS (CoNLL-U UPOS, token accuracy) and NER (CoNLL BIO files, entity P/R/F1).

The sentence is rendered as a word list; each word's label sits on its first patch. Words the renderer
dropped (strip full) are predicted as "" (POS: an error) or "O" (NER: a missed entity).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pixel.data.tasks import hub, metrics
from pixel.data.tasks.alignment import decode_word_predictions, token_feature
from pixel.data.tasks.conllu import ConlluSentence, read_conllu
from pixel.data.tasks.hub import HubSplit
from pixel.data.tasks.labels import IGNORE_INDEX, LabelVocabulary
from pixel.data.tasks.ner import NerSentence, read_conll_ner
from pixel.finetune.base import Family, Feature


def _gold(example: Any) -> list[str]:
    return example.upos if isinstance(example, ConlluSentence) else example.labels


class TaggingFamily(Family):
    """Prediction: {"labels": [str per word], "probabilities": [float per word]}."""

    model_class_name = "PIXELForTokenClassification"

    def vocabulary(self, train_examples) -> LabelVocabulary:
        return LabelVocabulary.from_data((label for e in train_examples for label in _gold(e)),
                                         first=self.first_labels)

    first_labels: tuple[str, ...] = ()
    missing_label = ""

    def features(self, index, example, renderer, vocabulary, unseen) -> list[Feature]:
        words = example.renderer_input()
        encoding = renderer(words)
        gold = _gold(example)
        if gold:
            ids, missing = vocabulary.encode_all(gold)
            unseen.update(missing)
        else:
            ids = [IGNORE_INDEX] * len(words)
        inputs = token_feature(encoding, ids)
        if not gold:
            inputs.pop("labels")
        return [Feature(inputs, index, {"word_starts": list(encoding.word_starts), "num_words": len(words)})]

    def has_targets(self, feature: Feature) -> bool:
        return bool((feature.inputs["labels"] != IGNORE_INDEX).any())

    def reduce(self, batch, output, features) -> list[dict[str, Any]]:
        probabilities = output.logits.float().softmax(-1)
        best, predicted = probabilities.max(-1)
        return [{"predicted": p, "probability": b} for p, b in zip(predicted.cpu().numpy(), best.cpu().numpy(),
                                                                  strict=True)]

    def decode(self, examples, features, results, vocabulary) -> list[dict[str, Any]]:
        predictions: list[dict[str, Any]] = [{} for _ in examples]
        for feature, result in zip(features, results, strict=True):
            starts, num_words = feature.meta["word_starts"], feature.meta["num_words"]
            labels = decode_word_predictions(result["predicted"], starts, vocabulary, num_words, self.missing_label)
            probability = result["probability"]
            scores = [float(probability[s]) for s in starts[:-1] if s < len(probability)]
            predictions[feature.example_index] = {"labels": labels,
                                                  "probabilities": scores + [0.0] * (num_words - len(scores))}
        return predictions

    def to_json(self, example, prediction) -> dict[str, Any]:
        record = {"words": example.words, **prediction}
        if _gold(example):
            record["gold"] = _gold(example)
        return record

    def to_text(self, example, prediction) -> str:
        return " ".join(f"{w}/{label or '?'}" for w, label in zip(example.words, prediction["labels"], strict=True))


class PosFamily(TaggingFamily):
    name = "pos"
    primary_metric = "accuracy"

    def read(self, path: str | Path | HubSplit, labelled: bool = True) -> list[ConlluSentence]:
        if isinstance(path, HubSplit):
            c = path.columns
            return hub.read_conllu(path, c.get("tokens_column") or "tokens", c.get("tags_column") or "upos",
                                   c.get("head_column"))
        return read_conllu(path)

    def score(self, examples, predictions) -> dict[str, float]:
        gold = [label for e in examples for label in e.upos]
        predicted = [label for p in predictions for label in p["labels"]]
        return {"accuracy": metrics.accuracy(predicted, gold)}

    def parse_inputs(self, texts: list[str], options: dict[str, Any]) -> list[ConlluSentence]:
        return [ConlluSentence(words=_words(t), upos=[], heads=[], relations=[]) for t in texts]


class NerFamily(TaggingFamily):
    name = "ner"
    primary_metric = "f1"
    first_labels = ("O",)
    missing_label = "O"

    def read(self, path: str | Path | HubSplit, labelled: bool = True) -> list[NerSentence]:
        if isinstance(path, HubSplit):
            c = path.columns
            return hub.read_ner(path, c.get("tokens_column") or "tokens", c.get("tags_column") or "ner_tags")
        return read_conll_ner(path)

    def score(self, examples, predictions) -> dict[str, float]:
        scores = metrics.entity_scores([p["labels"] for p in predictions], [e.labels for e in examples])
        gold = [label for e in examples for label in e.labels]
        predicted = [label for p in predictions for label in p["labels"]]
        return {"precision": float(scores["precision"]), "recall": float(scores["recall"]),
                "f1": float(scores["f1"]), "accuracy": metrics.accuracy(predicted, gold)}

    def parse_inputs(self, texts: list[str], options: dict[str, Any]) -> list[NerSentence]:
        return [NerSentence(words=_words(t), labels=[]) for t in texts]


def _words(text: str) -> list[str]:
    words = text.split()
    if not words:
        raise ValueError(f"input text {text!r} has no words")
    return words

