"""Metrics of the fine-tuning tasks, in plain Python/numpy (no scipy, sklearn, seqeval or evaluate).

Every function takes predictions first and gold labels second, and returns plain floats in [0, 1]
(SQuAD EM/F1 in [0, 100] as the official script prints them).
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Hashable, Sequence

import numpy as np

from .labels import IGNORE_INDEX


def _check_lengths(predictions: Sequence, references: Sequence) -> None:
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references; they must match")
    if len(references) == 0:
        raise ValueError("no examples to score: the reference list is empty")


def accuracy(predictions: Sequence[Hashable], references: Sequence[Hashable]) -> float:
    """Share of exact matches (token accuracy when given flat token lists)."""
    _check_lengths(predictions, references)
    return sum(p == r for p, r in zip(predictions, references, strict=True)) / len(references)


def _precision_recall_f1(true_positive: int, predicted: int, actual: int) -> tuple[float, float, float]:
    precision = true_positive / predicted if predicted else 0.0
    recall = true_positive / actual if actual else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def f1_binary(
    predictions: Sequence[Hashable], references: Sequence[Hashable], positive: Hashable = 1
) -> float:
    """F1 of the ``positive`` class (GLUE MRPC/QQP)."""
    _check_lengths(predictions, references)
    pairs = list(zip(predictions, references, strict=True))
    true_positive = sum(p == positive and r == positive for p, r in pairs)
    predicted = sum(p == positive for p, _ in pairs)
    actual = sum(r == positive for _, r in pairs)
    return _precision_recall_f1(true_positive, predicted, actual)[2]


def f1_macro(predictions: Sequence[Hashable], references: Sequence[Hashable]) -> float:
    """Unweighted mean of per-class F1 over the classes present in predictions or references."""
    _check_lengths(predictions, references)
    classes = sorted(set(predictions) | set(references), key=repr)
    return float(np.mean([f1_binary(predictions, references, positive=c) for c in classes]))


def matthews_corrcoef(predictions: Sequence[Hashable], references: Sequence[Hashable]) -> float:
    """Matthews correlation (multi-class R_K statistic); 0 when either side has a single class."""
    _check_lengths(predictions, references)
    classes = sorted(set(predictions) | set(references), key=repr)
    index = {c: i for i, c in enumerate(classes)}
    confusion = np.zeros((len(classes), len(classes)), dtype=np.float64)
    for p, r in zip(predictions, references, strict=True):
        confusion[index[r], index[p]] += 1
    true_per_class = confusion.sum(axis=1)
    predicted_per_class = confusion.sum(axis=0)
    correct = np.trace(confusion)
    total = confusion.sum()
    covariance = correct * total - predicted_per_class @ true_per_class
    spread_pred = total**2 - predicted_per_class @ predicted_per_class
    spread_true = total**2 - true_per_class @ true_per_class
    if spread_pred == 0 or spread_true == 0:
        return 0.0
    return float(covariance / np.sqrt(spread_pred * spread_true))


def pearson(predictions: Sequence[float], references: Sequence[float]) -> float:
    """Pearson correlation; raises for a constant input (the correlation is undefined there)."""
    _check_lengths(predictions, references)
    x = np.asarray(predictions, dtype=np.float64)
    y = np.asarray(references, dtype=np.float64)
    x = x - x.mean()
    y = y - y.mean()
    denominator = np.sqrt((x * x).sum() * (y * y).sum())
    if denominator == 0:
        raise ValueError("Pearson correlation is undefined: predictions or references are constant")
    return float((x * y).sum() / denominator)


def _average_ranks(values: Sequence[float]) -> np.ndarray:
    """Ranks 1..n, tied values sharing the mean of their ranks."""
    array = np.asarray(values, dtype=np.float64)
    order = np.argsort(array, kind="stable")
    ranks = np.empty(len(array), dtype=np.float64)
    sorted_values = array[order]
    start = 0
    while start < len(array):
        end = start
        while end + 1 < len(array) and sorted_values[end + 1] == sorted_values[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def spearman(predictions: Sequence[float], references: Sequence[float]) -> float:
    """Spearman rank correlation = Pearson correlation of the average ranks."""
    _check_lengths(predictions, references)
    return pearson(_average_ranks(predictions), _average_ranks(references))


# ---------------------------------------------------------------------------------------------------------
# Entity-level scores, compatible with seqeval's default (conlleval) mode.


def _split_tag(tag: str) -> tuple[str, str]:
    """``"B-geo-loc"`` -> (``"B"``, ``"geo-loc"``); ``"O"`` -> (``"O"``, ``"_"``)."""
    prefix = tag[:1]
    entity_type = tag[1:].split("-", maxsplit=1)[-1] or "_"
    return prefix, entity_type


def _chunk_ends(prev_prefix: str, prefix: str, prev_type: str, entity_type: str) -> bool:
    if prev_prefix in ("E", "S"):
        return True
    if prev_prefix in ("B", "I") and prefix in ("B", "S", "O"):
        return True
    return prev_prefix not in ("O", ".") and prev_type != entity_type


def _chunk_starts(prev_prefix: str, prefix: str, prev_type: str, entity_type: str) -> bool:
    if prefix in ("B", "S"):
        return True
    if prefix in ("E", "I") and prev_prefix in ("E", "S", "O"):
        return True
    return prefix not in ("O", ".") and prev_type != entity_type


def entities(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """Chunks ``(type, first, last)`` of one tag sequence (IOB2, IOB1 or IOBES), conlleval rules."""
    found: list[tuple[str, int, int]] = []
    prev_prefix, prev_type, begin = "O", "", 0
    for i, tag in enumerate([*tags, "O"]):
        prefix, entity_type = _split_tag(tag)
        if _chunk_ends(prev_prefix, prefix, prev_type, entity_type):
            found.append((prev_type, begin, i - 1))
        if _chunk_starts(prev_prefix, prefix, prev_type, entity_type):
            begin = i
        prev_prefix, prev_type = prefix, entity_type
    return found


def entity_scores(
    predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]]
) -> dict[str, float | dict[str, dict[str, float]]]:
    """Micro entity precision/recall/F1 over sentences, plus ``per_type`` scores (seqeval default mode).

    predictions, references: one tag list per sentence, same lengths.
    """
    _check_lengths(predictions, references)
    predicted: set[tuple[int, str, int, int]] = set()
    actual: set[tuple[int, str, int, int]] = set()
    for sentence, (pred_tags, gold_tags) in enumerate(zip(predictions, references, strict=True)):
        if len(pred_tags) != len(gold_tags):
            raise ValueError(
                f"sentence {sentence}: {len(pred_tags)} predicted tags but {len(gold_tags)} gold tags"
            )
        predicted.update((sentence, *chunk) for chunk in entities(pred_tags))
        actual.update((sentence, *chunk) for chunk in entities(gold_tags))
    per_type: dict[str, dict[str, float]] = {}
    for entity_type in sorted({chunk[1] for chunk in predicted | actual}):
        pred_of_type = {c for c in predicted if c[1] == entity_type}
        gold_of_type = {c for c in actual if c[1] == entity_type}
        p, r, f = _precision_recall_f1(len(pred_of_type & gold_of_type), len(pred_of_type), len(gold_of_type))
        per_type[entity_type] = {"precision": p, "recall": r, "f1": f, "support": float(len(gold_of_type))}
    precision, recall, f1 = _precision_recall_f1(len(predicted & actual), len(predicted), len(actual))
    return {"precision": precision, "recall": recall, "f1": f1, "per_type": per_type}


# ---------------------------------------------------------------------------------------------------------
# Dependency parsing


def attachment_scores(
    predicted_heads: Sequence[int],
    predicted_relations: Sequence[Hashable],
    gold_heads: Sequence[int],
    gold_relations: Sequence[Hashable],
) -> dict[str, float]:
    """UAS and LAS over all given words (punctuation included, as the original).

    Callers pass only the real words (padding removed); the relation prediction of a word is the one read
    at its *gold* head, as the original trainer does, so LAS = head right and that relation right.
    """
    _check_lengths(predicted_heads, gold_heads)
    _check_lengths(predicted_relations, gold_relations)
    _check_lengths(predicted_heads, predicted_relations)
    head_right = [p == g for p, g in zip(predicted_heads, gold_heads, strict=True)]
    both_right = [
        h and p == g for h, p, g in zip(head_right, predicted_relations, gold_relations, strict=True)
    ]
    return {"uas": sum(head_right) / len(head_right), "las": sum(both_right) / len(both_right)}


def parsing_scores_from_logits(
    arc_logits: np.ndarray, rel_logits: np.ndarray, arc_labels: np.ndarray, rel_labels: np.ndarray
) -> dict[str, float]:
    """UAS/LAS from the biaffine head's outputs, as the original trainer: words with arc label -100 are
    left out; the predicted head is the argmax over the L+1 candidates (0 = root), the predicted relation
    the argmax at the *gold* head.

    arc_logits: [B, L, L+1]; rel_logits: [B, L, L+1, R]; arc_labels, rel_labels: [B, L] (-100 = none).
    A relation label of -100 on a scored word (unseen in training) counts as a wrong relation.
    """
    arc_logits, rel_logits = np.asarray(arc_logits), np.asarray(rel_logits)
    arc_labels, rel_labels = np.asarray(arc_labels), np.asarray(rel_labels)
    if (
        arc_logits.ndim != 3
        or rel_logits.shape[:3] != arc_logits.shape
        or arc_labels.shape != arc_logits.shape[:2]
    ):
        raise ValueError(
            f"expected arc_logits [B, L, L+1], rel_logits [B, L, L+1, R], labels [B, L]; got "
            f"{arc_logits.shape}, {rel_logits.shape}, {arc_labels.shape}"
        )
    words = arc_labels != IGNORE_INDEX
    gold_heads = arc_labels[words]
    predicted_heads = arc_logits.argmax(axis=-1)[words]
    predicted_relations = rel_logits[words][np.arange(len(gold_heads)), gold_heads].argmax(axis=-1)
    return attachment_scores(
        predicted_heads.tolist(),
        predicted_relations.tolist(),
        gold_heads.tolist(),
        rel_labels[words].tolist(),
    )


# ---------------------------------------------------------------------------------------------------------
# SQuAD, as the official v1.1 evaluation script (v2.0 rule for unanswerable questions)

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower case, drop ASCII punctuation, drop the articles a/an/the, collapse whitespace."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def squad_exact_match(prediction: str, truth: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(truth))


def squad_f1(prediction: str, truth: str) -> float:
    """Token-overlap F1 of the normalised answers (0 without overlap, as the v1.1 script)."""
    pred_tokens = normalize_answer(prediction).split()
    true_tokens = normalize_answer(truth).split()
    common = Counter(pred_tokens) & Counter(true_tokens)
    overlap = sum(common.values())
    if overlap == 0:
        return 0.0
    precision = overlap / len(pred_tokens)
    recall = overlap / len(true_tokens)
    return 2 * precision * recall / (precision + recall)


def squad_scores(predictions: dict[str, str], references: dict[str, Sequence[str]]) -> dict[str, float]:
    """``exact_match`` and ``f1`` in [0, 100], each the max over an example's gold answers, averaged.

    predictions: example id -> predicted text ("" = no answer). references: example id -> gold texts
    (an empty list = unanswerable, scored against "" as SQuAD v2). Every reference needs a prediction.
    """
    if not references:
        raise ValueError("no examples to score: the reference dict is empty")
    missing = [key for key in references if key not in predictions]
    if missing:
        raise ValueError(f"{len(missing)} examples have no prediction, e.g. {missing[:3]}")
    exact = f1 = 0.0
    for key, truths in references.items():
        if not truths:
            # Unanswerable (SQuAD v2 rule): only an empty prediction is right.
            right = float(normalize_answer(predictions[key]) == "")
            exact += right
            f1 += right
            continue
        exact += max(squad_exact_match(predictions[key], t) for t in truths)
        f1 += max(squad_f1(predictions[key], t) for t in truths)
    return {"exact_match": 100.0 * exact / len(references), "f1": 100.0 * f1 / len(references)}
