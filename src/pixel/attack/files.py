"""Attacked copies of task files: the same format, the same labels, only the text perturbed.

- CoNLL-U (POS, parsing): the FORM of every word line; multiword-token lines (``1-2``), comments (also
  ``# text =``) and every other column are kept, so UPOS, HEAD and DEPREL stay aligned word by word.
- CoNLL NER: the word column; a word that segmentation split (it now holds a space) is written with tab
  separators, which the reader splits at. One label per word, as before.
- Classification (CSV, TSV, JSON lines or a JSON array): the text column and the pair column, if any;
  other columns as they were.
- SQuAD (nested v1/v2/TyDiQA-GoldP, or flat Hugging Face records): question and context. Answers are moved
  to their place in the attacked context (their text becomes the attacked text there); an answer with a
  boundary inside a changed word, or not at its answer_start in the input, is removed, and an answerable
  question left without answers is dropped; both are counted.

The input is read with the task readers first, so a malformed file gets their error messages.
"""

from __future__ import annotations

import copy
import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pixel.data.tasks.classification import read_records
from pixel.data.tasks.conllu import read_conllu
from pixel.data.tasks.ner import read_conll_ner, split_columns
from pixel.data.tasks.qa import parse_json_or_lines, read_squad
from pixel.data.tasks.reading import DataFormatError, read_lines, read_text
from pixel.io import atomic_path

from .attacks import DEFAULT_SEED, AttackedText, Attacker, severity_label

FORMATS = ("conllu", "ner", "classification", "qa")


@dataclass
class AttackSummary:
    """What :func:`attack_file` did: ``examples`` written (sentences, rows, questions), ``words`` seen and
    ``changed`` (words changed; for segmentation of running text: spaces removed), QA answers removed and
    questions dropped."""

    source: str
    target: str
    format: str
    attack: str
    severity: float
    seed: int
    examples: int
    words: int
    changed: int
    removed_answers: int = 0
    dropped_questions: int = 0

    def describe(self) -> str:
        unit = "spaces removed" if self.attack == "segmentation" and self.format in ("classification", "qa") \
            else "words changed"
        text = (f"{self.attack} at {severity_label(self.severity)} (seed {self.seed}) on {self.source} "
                f"({self.format}): {self.examples} examples, {self.changed} {unit} ({self.words} words)")
        if self.format == "qa":
            text += (f"; {self.removed_answers} answers removed (a boundary inside a changed word, or not at "
                     f"answer_start in the input), {self.dropped_questions} questions dropped")
        return text


def detect_format(path: str | Path) -> str:
    """conllu (.conllu), classification (.csv/.tsv/.tab, or JSON records without 'context'), qa (SQuAD
    JSON or records with 'context' and 'answers'), else ner (word-label lines: .txt, .conll, .iob, ...)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".conllu":
        return "conllu"
    if suffix in (".csv", ".tsv", ".tab"):
        return "classification"
    if suffix in (".json", ".jsonl"):
        parsed = parse_json_or_lines(path, read_text(path))
        if isinstance(parsed, dict):
            return "qa"
        first = parsed[0][1] if parsed else None
        return "qa" if isinstance(first, dict) and "context" in first and "answers" in first else "classification"
    return "ner"


def attack_file(source: str | Path, target: str | Path, attack: str, severity: float, seed: int = DEFAULT_SEED,
                format: str | None = None, text_columns: list[str] | None = None) -> AttackSummary:
    """Write the attacked copy of ``source`` to ``target`` (atomically; folders created). ``format``: one of
    FORMATS, detected from the file when None. ``text_columns``: the columns to attack in classification data
    (default: ``sentence``)."""
    source, target = Path(source), Path(target)
    attacker = Attacker(attack, severity, seed)  # checks the name and the severity first
    format = format or detect_format(source)
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    if target.resolve() == source.resolve():
        raise ValueError(f"{target}: the attacked copy would overwrite its input; choose another output file")
    extra: dict[str, int] = {}
    if format == "conllu":
        text, examples = _attack_conllu(source, attacker)
    elif format == "ner":
        text, examples = _attack_ner(source, attacker)
    elif format == "classification":
        text, examples = _attack_classification(source, attacker, text_columns or ["sentence"])
    else:
        text, examples, extra = _attack_squad(source, attacker)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return AttackSummary(str(source), str(target), format, attack, attacker.severity, seed, examples,
                         attacker.words_seen, attacker.words_changed + attacker.spaces_removed, **extra)


def _attack_conllu(source: Path, attacker: Attacker) -> tuple[str, int]:
    sentences = read_conllu(source)
    lines = []
    for line in read_lines(source):
        columns = line.split("\t")
        if len(columns) == 10 and columns[0].isdigit():
            columns[1] = attacker.token(columns[1])
            line = "\t".join(columns)
        lines.append(line)
    return "\n".join(lines) + "\n", len(sentences)


def _attack_ner(source: Path, attacker: Attacker) -> tuple[str, int]:
    sentences = read_conll_ner(source)
    lines = []
    for line in read_lines(source):
        if line.strip() and not line.startswith("-DOCSTART-"):
            columns = split_columns(line)
            word = attacker.token(columns[0])
            if word != columns[0]:
                at = line.index(columns[0])
                line = "\t".join([word, *columns[1:]]) if " " in word else line[:at] + word + line[at + len(columns[0]):]
        lines.append(line)
    return "\n".join(lines) + "\n", len(sentences)


def _attack_classification(source: Path, attacker: Attacker, text_columns: list[str]) -> tuple[str, int]:
    columns, rows = read_records(source)
    missing = [c for c in text_columns if c not in columns]
    if missing:
        raise DataFormatError(f"{source}: no column {', '.join(missing)} to attack; the file has "
                              f"{', '.join(columns)} (choose with --text_column / --pair_column)")
    records = []
    for number, record in rows:
        record = dict(record)
        for column in text_columns:
            if not isinstance(record.get(column), str):
                raise DataFormatError(f"{source}:{number}: column {column!r} must hold text, found "
                                      f"{type(record.get(column)).__name__}")
            record[column] = attacker.text(record[column]).text
        records.append(record)
    suffix = source.suffix.lower()
    if suffix == ".csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
        return buffer.getvalue(), len(records)
    if suffix in (".tsv", ".tab"):  # read without quoting: tabs and line breaks cannot be in a field
        lines = ["\t".join(columns)] + ["\t".join(record[c] for c in columns) for record in records]
        return "\n".join(lines) + "\n", len(records)
    if read_text(source).lstrip().startswith("["):
        return json.dumps(records, ensure_ascii=False, indent=1) + "\n", len(records)
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records), len(records)


def _attack_squad(source: Path, attacker: Attacker) -> tuple[str, int, dict[str, int]]:
    read_squad(source)  # the reader's checks and error messages
    text = read_text(source)
    parsed = parse_json_or_lines(source, text)
    counts = {"removed_answers": 0, "dropped_questions": 0}

    def moved_answers(context: str, attacked: AttackedText, answers: list[tuple[Any, Any]]) -> list:
        """(text, start) in the attacked context per answer, None where it cannot be moved (counted)."""
        moved = [_move_answer(context, attacked, answer, start) for answer, start in answers]
        counts["removed_answers"] += moved.count(None)
        return moved

    if isinstance(parsed, dict):
        data = copy.deepcopy(parsed)
        questions = 0
        for article in data["data"]:
            for paragraph in article["paragraphs"]:
                context = paragraph["context"]
                attacked = attacker.text(context)
                paragraph["context"] = attacked.text
                kept = []
                for qa in paragraph.get("qas", []):
                    answers = qa.get("answers", [])
                    moved = moved_answers(context, attacked, [(a.get("text"), a.get("answer_start")) for a in answers])
                    qa["answers"] = [dict(a, text=m[0], answer_start=m[1]) for a, m in zip(answers, moved, strict=True)
                                     if m is not None]
                    if answers and not qa["answers"] and not qa.get("is_impossible", False):
                        counts["dropped_questions"] += 1
                        continue
                    qa["question"] = attacker.text(qa["question"]).text
                    kept.append(qa)
                paragraph["qas"] = kept
                questions += len(kept)
        return json.dumps(data, ensure_ascii=False) + "\n", questions, counts
    attacked_contexts: dict[str, AttackedText] = {}  # records sharing a context share its attacked copy
    items = []
    for _, item in parsed:
        item = copy.deepcopy(item)
        context = item["context"]
        if context not in attacked_contexts:
            attacked_contexts[context] = attacker.text(context)
        attacked = attacked_contexts[context]
        answers = item["answers"]
        texts = answers.get("text", answers.get("answer_text", []))
        answers.pop("answer_text", None)
        moved = [m for m in moved_answers(context, attacked, list(zip(texts, answers.get("answer_start", []),
                                                                       strict=True))) if m is not None]
        if texts and not moved:
            counts["dropped_questions"] += 1
            continue
        item.update(context=attacked.text, question=attacker.text(item["question"]).text)
        answers.update(text=[t for t, _ in moved], answer_start=[s for _, s in moved])
        items.append(item)
    if text.lstrip().startswith("["):
        return json.dumps(items, ensure_ascii=False, indent=1) + "\n", len(items), counts
    return "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items), len(items), counts


def _move_answer(context: str, attacked: AttackedText, text: Any, start: Any) -> tuple[str, int] | None:
    """(text, start) of an answer in the attacked context; None when it is not at ``start`` in the input
    or a boundary falls inside a changed word."""
    valid = isinstance(text, str) and text and isinstance(start, int) and start >= 0 \
        and context[start:start + len(text)] == text
    span = attacked.relocate(start, start + len(text)) if valid else None
    return None if span is None else (attacked.text[span[0]:span[1]], span[0])
