"""Extractive QA: SQuAD-format data, patch-level training targets and answer spans from start/end logits.

The model sees (question, context) rendered as a pair with overflow windows; each window is one feature.
The QA head's output has L+1 positions: the L patches, then the CLS output appended *last*, so index L
means "no answer here" (spec 2.5). Offsets are character spans of the *stripped* context, which is what
the renderer draws (``renderer_input``); answer starts are shifted accordingly.
"""

from __future__ import annotations

import json
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...render.encoding import Encoding
from .reading import DataFormatError, read_text, split_lines

Offset = tuple[int, int]


@dataclass
class QAExample:
    """One question. answer_texts/answer_starts are empty for an unanswerable (SQuAD v2) question;
    answer_starts index the *raw* context."""

    id: str
    question: str
    context: str
    answer_texts: list[str] = field(default_factory=list)
    answer_starts: list[int] = field(default_factory=list)

    @property
    def rendered_context(self) -> str:
        return self.context.strip()

    @property
    def context_shift(self) -> int:
        """Characters removed from the front of the context by stripping it."""
        return len(self.context) - len(self.context.lstrip())

    def renderer_input(self) -> tuple[str, str]:
        """(question, context), both stripped as the original; render with offset mapping and overflow."""
        return self.question.strip(), self.rendered_context


@dataclass
class SquadData:
    examples: list[QAExample]
    skipped_answers: int  # answers whose text is not at answer_start in the context
    skipped_questions: int  # answerable questions left without any valid answer (dropped)


def read_squad(path: str | Path) -> SquadData:
    """SQuAD v1/v2 JSON (``{"data": [{"paragraphs": [{"context", "qas": [...]}]}]}``, also TyDiQA-GoldP
    files) or flat records (JSON lines or a list) with ``id, question, context`` and ``answers`` as
    ``{"text": [...], "answer_start": [...]}`` (the Hugging Face layout).

    Answers whose text does not appear at answer_start are skipped and counted; a question marked
    answerable that keeps no answer is dropped and counted. Malformed structure raises DataFormatError.
    """
    text = read_text(path)
    parsed = parse_json_or_lines(path, text)
    if isinstance(parsed, dict):
        records = list(_nested_records(path, parsed))
    else:
        records = _flat_records(path, parsed)
    return squad_from_records(path, records)


def squad_from_flat_items(source: str | Path, items: list[tuple[str, Any]]) -> SquadData:
    """SquadData of ``(where, item)`` pairs in the flat Hugging Face layout (``id, question, context,
    answers: {"text": [...], "answer_start": [...]}``); ``source`` names them in error messages."""
    return squad_from_records(source, _flat_records(source, items))


def squad_from_records(path: str | Path, records: list[tuple[str, dict[str, Any]]]) -> SquadData:
    examples: list[QAExample] = []
    skipped_answers = skipped_questions = 0
    seen_ids: set[str] = set()
    for where, record in records:
        example, skipped, dropped = _example(path, where, record)
        skipped_answers += skipped
        skipped_questions += dropped
        if example is None:
            continue
        if example.id in seen_ids:
            raise DataFormatError(
                f"{path}: question id {example.id!r} appears twice ({where}); ids must be unique"
            )
        seen_ids.add(example.id)
        examples.append(example)
    if not examples:
        raise DataFormatError(
            f"{path}: no usable questions: {len(records)} read, {skipped_questions} dropped because none of their "
            f"answers appears in the context at its answer_start ({skipped_answers} answers skipped so)"
            if records else f"{path}: no usable questions: the file holds no question"
        )
    return SquadData(examples, skipped_answers, skipped_questions)


def _nested_records(path: str | Path, raw: Any):
    if not isinstance(raw, dict) or not isinstance(raw.get("data"), list):
        raise DataFormatError(f"{path}: expected a SQuAD object with a 'data' list")
    for a, article in enumerate(raw["data"]):
        paragraphs = article.get("paragraphs") if isinstance(article, dict) else None
        if not isinstance(paragraphs, list):
            raise DataFormatError(f"{path}: data[{a}] needs a 'paragraphs' list")
        for p, paragraph in enumerate(paragraphs):
            where = f"data[{a}].paragraphs[{p}]"
            if not isinstance(paragraph, dict) or not isinstance(paragraph.get("context"), str):
                raise DataFormatError(f"{path}: {where} has no 'context' text")
            for q, qa in enumerate(paragraph.get("qas", [])):
                answers = qa.get("answers", []) if isinstance(qa, dict) else None
                if not isinstance(answers, list) or not all(isinstance(x, dict) for x in answers):
                    raise DataFormatError(
                        f"{path}: {where}.qas[{q}] needs 'answers': a list of {{'text', 'answer_start'}}"
                    )
                record = {
                    "id": qa.get("id"),
                    "question": qa.get("question"),
                    "context": paragraph["context"],
                    "texts": [answer.get("text") for answer in answers],
                    "starts": [answer.get("answer_start") for answer in answers],
                    "is_impossible": bool(qa.get("is_impossible", False)),
                }
                yield f"{where}.qas[{q}]", record


def parse_json_or_lines(path: str | Path, text: str) -> dict[str, Any] | list[tuple[str, Any]]:
    """A whole-file SQuAD object, or ``(where, item)`` pairs of a JSON array or of JSON lines."""
    lines = [(number, line) for number, line in enumerate(split_lines(text), start=1) if line.strip()]
    try:
        first = json.loads(lines[0][1])
    except json.JSONDecodeError:
        first = None  # a pretty-printed document: parse the whole file
    if isinstance(first, dict) and len(lines) == 1 and "data" in first:
        return first
    if isinstance(first, dict):
        items = []
        for number, line in lines:
            try:
                items.append((f"line {number}", json.loads(line)))
            except json.JSONDecodeError as err:
                raise DataFormatError(f"{path}:{number}: invalid JSON line: {err.msg}") from None
        return items
    try:
        whole = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataFormatError(f"{path}:{err.lineno}: invalid JSON: {err.msg}") from None
    if isinstance(whole, list):
        return [(f"record {i}", item) for i, item in enumerate(whole)]
    if isinstance(whole, dict) and "data" in whole:
        return whole
    raise DataFormatError(f"{path}: expected a SQuAD object with a 'data' list, a JSON array or JSON lines")


def _flat_records(path: str | Path, items: list[tuple[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    records = []
    for where, item in items:
        answers = item.get("answers") if isinstance(item, dict) else None
        if not isinstance(answers, dict):
            raise DataFormatError(
                f"{path}: {where}: expected an object with 'answers': {{'text': [...], 'answer_start': [...]}}"
            )
        texts = answers.get("text", answers.get("answer_text", []))
        starts = answers.get("answer_start", [])
        if not isinstance(texts, list) or not isinstance(starts, list):
            raise DataFormatError(f"{path}: {where}: 'answers' text and answer_start must be lists")
        record = {
            "id": item.get("id"),
            "question": item.get("question"),
            "context": item.get("context"),
            "texts": texts,
            "starts": starts,
            "is_impossible": False,
        }
        records.append((where, record))
    return records


def _example(path: str | Path, where: str, record: dict[str, Any]) -> tuple[QAExample | None, int, int]:
    for key in ("id", "question", "context"):
        if not isinstance(record[key], str) and not (key == "id" and isinstance(record[key], int)):
            raise DataFormatError(f"{path}: {where}: missing or non-text {key!r}")
    texts, starts = record["texts"], record["starts"]
    if len(texts) != len(starts):
        raise DataFormatError(f"{path}: {where}: {len(texts)} answer texts but {len(starts)} answer starts")
    context = record["context"]
    kept_texts, kept_starts = [], []
    for answer, start in zip(texts, starts, strict=True):
        if (
            isinstance(answer, str)
            and isinstance(start, int)
            and start >= 0
            and answer
            and context[start : start + len(answer)] == answer
        ):
            kept_texts.append(answer)
            kept_starts.append(start)
    skipped = len(texts) - len(kept_texts)
    example = QAExample(str(record["id"]), record["question"], context, kept_texts, kept_starts)
    if texts and not kept_texts and not record["is_impossible"]:
        return None, skipped, 1
    return example, skipped, 0


# ---------------------------------------------------------------------------------------------------------
# Features (one per rendered window)


@dataclass
class QAFeature:
    """One rendered window of one question.

    context_offsets: [L] character span in the stripped context per patch, None outside the context
        (question, separators, blank patch, padding); (high, low) in a right-to-left window.
    start_position / end_position: answer patches; L (the appended CLS slot) when the answer is not fully
        inside this window or the question has none.
    """

    example_id: str
    encoding: Encoding
    context_offsets: list[Offset | None]
    start_position: int
    end_position: int

    def as_dict(self) -> dict[str, Any]:
        """Feature dict for `pixel.render.batch.collate` (training: pixels, mask length, the two
        positions)."""
        return {
            "pixel_values": self.encoding.pixel_values,
            "num_text_patches": self.encoding.num_text_patches,
            "start_positions": self.start_position,
            "end_positions": self.end_position,
        }


def _context_patch_range(offsets: Sequence[Offset]) -> tuple[int, int]:
    """First and last patch of the context: after the first (0, 0) separator, before trailing
    separators, padding and blank (-1, -1) patches."""
    if (0, 0) not in offsets:
        raise ValueError(
            "offset mapping has no (0, 0) separator after the question; render a (question, context) pair"
        )
    first = offsets.index((0, 0)) + 1
    last = len(offsets) - 1
    while last >= first and offsets[last] in ((0, 0), (-1, -1)):
        last -= 1
    return first, last


def _mirrored(span: Offset) -> bool:
    """Right-to-left windows store each span as (high, low), in image order from the end of the text."""
    return span[0] > span[1]


def answer_patches(offsets: Sequence[Offset], start_char: int, end_char: int) -> tuple[int, int] | None:
    """Patches (first, last) in image order covering context characters [start_char, end_char) of this
    window, or None when the answer is not fully inside the window's context.

    As the original, in reading order: the answer starts in the last patch starting at or before
    start_char and ends in the first patch ending at or after end_char. A right-to-left window (mirrored
    spans, image order = reverse reading order) gives first = the patch holding the answer's end, as the
    original's RTL branch."""
    offsets = [tuple(o) for o in offsets]
    first, last = _context_patch_range(offsets)
    if last < first:
        return None
    image_order = list(range(first, last + 1))
    reading_order = image_order[::-1] if _mirrored(offsets[first]) else image_order
    spans = [(min(offsets[i]), max(offsets[i])) for i in reading_order]
    if not (spans[0][0] <= start_char and spans[-1][1] >= end_char):
        return None
    # The original scanned past the context into the separators; bounding the scan keeps an answer in the
    # window's last context patch on that patch (it otherwise landed on patch L-1).
    start = 0
    while start < len(spans) and spans[start][0] <= start_char:
        start += 1
    end = len(spans) - 1
    while end >= 0 and spans[end][1] >= end_char:
        end -= 1
    a, b = reading_order[start - 1], reading_order[end + 1]
    return min(a, b), max(a, b)


def build_qa_features(example: QAExample, encoding: Encoding) -> list[QAFeature]:
    """Features of every window of ``encoding`` (the render of ``example.renderer_input()`` with
    ``return_offset_mapping=True, return_overflowing_patches=True``). Training targets use the first
    answer, as the original."""
    windows = [encoding, *(encoding.overflowing_patches or [])]
    features = []
    for window in windows:
        if window.offset_mapping is None:
            raise ValueError("the encoding has no offset_mapping; render with return_offset_mapping=True")
        offsets = [tuple(o) for o in window.offset_mapping]
        num_patches = len(offsets)
        no_answer = num_patches  # the appended CLS slot
        start_position = end_position = no_answer
        if example.answer_texts:
            start_char = example.answer_starts[0] - example.context_shift
            end_char = start_char + len(example.answer_texts[0])
            span = answer_patches(offsets, start_char, end_char)
            if span is not None:
                start_position, end_position = span
        first, last = _context_patch_range(offsets)
        context_offsets: list[Offset | None] = [
            offsets[i] if first <= i <= last else None for i in range(num_patches)
        ]
        features.append(QAFeature(example.id, window, context_offsets, start_position, end_position))
    return features


# ---------------------------------------------------------------------------------------------------------
# Post-processing: logits -> answer text


def span_text(context: str, start_offset: Offset, end_offset: Offset) -> str:
    """Answer text between the patch where it starts and the patch where it ends (reading order, spans
    as (low, high)), with the original's clean-up: a partial word before the first space of the first
    patch and after the last space of the last patch is dropped (unless numeric), and punctuation is
    stripped from both ends; a one-patch answer is the patch's text (whitespace stripped). context is the
    *rendered* context. The cut is a guess: a short word sharing a patch with a space at either edge is
    lost (e.g. "is a" -> "is"), as in the original."""
    if start_offset == end_offset:
        return context[start_offset[0] : end_offset[1]].strip()
    first = context[start_offset[0] : start_offset[1]].lstrip()
    if " " in first:
        head, rest = first.split(" ", 1)
        if not head.isnumeric():
            first = rest
    last = context[end_offset[0] : end_offset[1]].rstrip()
    if " " in last:
        rest, tail = last.rsplit(" ", 1)
        if not tail.isnumeric():
            last = rest
    middle = context[start_offset[1] : end_offset[0]]
    return (first + middle + last).strip(string.punctuation)


def patches_text(context: str, first_patch: Offset, last_patch: Offset) -> str:
    """Answer text of the patches first..last in image order (LTR or mirrored RTL spans)."""
    if _mirrored(first_patch):
        return span_text(context, (last_patch[1], last_patch[0]), (first_patch[1], first_patch[0]))
    return span_text(context, first_patch, last_patch)


@dataclass
class QAPrediction:
    """text: the answer ("" = no answer); nbest: up to n_best candidates with text, logits and softmax
    probability; null_score_diff: null score minus the best non-null score (v2 only, else None)."""

    text: str
    probability: float
    nbest: list[dict[str, Any]]
    null_score_diff: float | None = None


def postprocess_qa(
    example: QAExample,
    features: Sequence[QAFeature],
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    n_best: int = 20,
    max_answer_length: int = 30,
    version_2_with_negative: bool = False,
    null_score_diff_threshold: float = 0.0,
) -> QAPrediction:
    """Best answer of one question from its features' logits.

    start_logits, end_logits: float [F, L+1] for the F features of this example (index L = CLS / null).
    Candidates: `span_candidates` of each feature. The null score is the *minimum* over features of
    start[L] + end[L]; with version_2_with_negative the answer is "" when null - best > threshold.
    """
    start_logits, end_logits = _checked_logits(example, features, start_logits, end_logits)
    candidates: list[dict[str, Any]] = []
    null: dict[str, Any] | None = None
    for feature, starts, ends in zip(features, start_logits, end_logits, strict=True):
        candidates += span_candidates(example.rendered_context, feature.context_offsets, starts, ends, n_best,
                                      max_answer_length)
        if null is None or starts[-1] + ends[-1] < null["score"]:
            null = {"text": "", "score": starts[-1] + ends[-1], "start_logit": starts[-1], "end_logit": ends[-1]}
    if not version_2_with_negative:
        null = None
    ranked = _rank(candidates, null, n_best)
    return _choose_answer(ranked, null, null_score_diff_threshold)


def _checked_logits(example: QAExample, features: Sequence[QAFeature], start_logits: np.ndarray,
                    end_logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float64 copies of start/end logits [F, L+1]; ValueError for a wrong shape or a NaN / inf."""
    start_logits = np.asarray(start_logits, dtype=np.float64)
    end_logits = np.asarray(end_logits, dtype=np.float64)
    if start_logits.shape != end_logits.shape or start_logits.shape[0] != len(features):
        raise ValueError(
            f"start logits {start_logits.shape} and end logits {end_logits.shape} must both be "
            f"[{len(features)} features, L+1]"
        )
    if not (np.isfinite(start_logits).all() and np.isfinite(end_logits).all()):
        raise ValueError(
            f"question {example.id!r}: start/end logits contain NaN or inf; check the model outputs"
        )
    return start_logits, end_logits


def span_candidates(
    context: str,
    offsets: Sequence[Offset | None],
    starts: np.ndarray,
    ends: np.ndarray,
    n_best: int,
    max_answer_length: int,
) -> list[dict[str, Any]]:
    """Answer candidates of one window: pairs of its n_best highest start and end patches, both inside the
    context (``offsets`` not None), end >= start, at most max_answer_length patches. starts, ends: [L+1]."""
    if starts.shape[0] != len(offsets) + 1:
        raise ValueError(f"logits have {starts.shape[0]} positions; expected L+1 = {len(offsets) + 1}")
    candidates = []
    for s in np.argsort(starts)[::-1][:n_best]:
        for e in np.argsort(ends)[::-1][:n_best]:
            if s >= len(offsets) or e >= len(offsets) or offsets[s] is None or offsets[e] is None:
                continue
            if e < s or e - s + 1 > max_answer_length:
                continue
            candidates.append({"text": patches_text(context, offsets[s], offsets[e]),
                               "score": starts[s] + ends[e], "start_logit": starts[s], "end_logit": ends[e]})
    return candidates


def _rank(candidates: list[dict[str, Any]], null: dict[str, Any] | None, n_best: int) -> list[dict[str, Any]]:
    """The n_best highest-scoring candidates, with the null answer (when given) kept even if it ranks lower;
    each with its softmax ``probability`` over the ranked list."""
    ranked = sorted(candidates + ([null] if null is not None else []), key=lambda c: c["score"],
                    reverse=True)[:n_best]
    if null is not None and not any(c is null for c in ranked):
        ranked.append(null)
    if ranked:
        scores = np.array([c["score"] for c in ranked])
        probabilities = np.exp(scores - scores.max())
        for candidate, probability in zip(ranked, probabilities / probabilities.sum(), strict=True):
            candidate["probability"] = float(probability)
    return ranked


def _choose_answer(ranked: list[dict[str, Any]], null: dict[str, Any] | None, threshold: float) -> QAPrediction:
    """The best non-empty candidate; with a null answer (SQuAD v2) "" when null - best > threshold."""
    nbest = [{"text": c["text"], "probability": c["probability"], "start_logit": float(c["start_logit"]),
              "end_logit": float(c["end_logit"])} for c in ranked]
    best_index = next((i for i, c in enumerate(ranked) if c["text"]), None)
    if null is None:
        if not ranked:
            return QAPrediction(text="", probability=0.0, nbest=[], null_score_diff=None)
        index = 0 if best_index is None else best_index
        return QAPrediction(text=nbest[index]["text"], probability=nbest[index]["probability"], nbest=nbest)
    if best_index is None:
        return QAPrediction(text="", probability=0.0, nbest=nbest, null_score_diff=None)
    best = ranked[best_index]
    diff = float(null["score"] - best["start_logit"] - best["end_logit"])
    if diff > threshold:
        return QAPrediction(text="", probability=null["probability"], nbest=nbest, null_score_diff=diff)
    return QAPrediction(text=best["text"], probability=nbest[best_index]["probability"], nbest=nbest,
                        null_score_diff=diff)


def postprocess_all(
    examples: Sequence[QAExample],
    features: Sequence[QAFeature],
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    **options: Any,
) -> dict[str, QAPrediction]:
    """Predictions of every example from the logits of all features (any order, grouped by example_id).

    start_logits, end_logits: float [F, L+1], row i for features[i]. options: see postprocess_qa.
    """
    start_logits = np.asarray(start_logits)
    end_logits = np.asarray(end_logits)
    if len(start_logits) != len(features) or len(end_logits) != len(features):
        raise ValueError(f"{len(start_logits)} logit rows for {len(features)} features; they must match")
    rows: dict[str, list[int]] = {}
    for row, feature in enumerate(features):
        rows.setdefault(feature.example_id, []).append(row)
    predictions = {}
    for example in examples:
        if example.id not in rows:
            raise ValueError(f"question {example.id!r} has no feature; build features for every example")
        index = rows[example.id]
        predictions[example.id] = postprocess_qa(
            example, [features[i] for i in index], start_logits[index], end_logits[index], **options
        )
    return predictions
