"""Sequence classification data (GLUE/XNLI style): single texts or pairs, classes or a regression score.

Files: ``.csv`` (comma, quoted fields), ``.tsv`` / ``.tab`` (tab, no quoting, as the GLUE files), ``.jsonl``
/ ``.json`` (one JSON object per line, or one JSON array of objects). Columns are chosen by name.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .labels import LabelVocabulary
from .reading import DataFormatError, at, read_text, split_lines

# The original's GLUE clean-up: plain string replacements applied in exactly this order.
_GLUE_REPLACEMENTS = (
    (" ,", ","), (" .", "."), (" !", "!"), (" ?", "?"), (" #", "#"), (" /", "/"),
    (' "', '"'), ('" ', '"'), (" '", "'"), ("' ", "'"), (" n't", "n't"),
    ("( ", "("), (" )", ")"), ("[ ", "["), (" ]", "]"),
)  # fmt: skip


def glue_strip_spaces(text: str) -> str:
    """Drop the tokenisation spaces of GLUE text: before ``, . ! ? # / n't ) ]``, on both sides of ``"``
    and ``'``, after ``( [`` (sequential replacements, so ``a ' b`` -> ``a'b``)."""
    for old, new in _GLUE_REPLACEMENTS:
        text = text.replace(old, new)
    return text


@dataclass
class ClassificationExample:
    """text (and optional pair text) with a label string (classification), a float (regression) or None."""

    text: str
    pair: str | None = None
    label: str | float | None = None

    def renderer_input(self) -> str | tuple[str, str]:
        """A str for a single text, a (text, pair) tuple for a pair (the renderer's pair mode)."""
        return self.text if self.pair is None else (self.text, self.pair)


def read_records(path: str | Path) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """Column names and ``(line, record)`` rows of a CSV, TSV or JSON-lines file."""
    path = Path(path)
    suffix = path.suffix.lower()
    text = read_text(path)
    if suffix == ".csv":
        return _read_delimited(path, text, delimiter=",", quoting=csv.QUOTE_MINIMAL)
    if suffix in (".tsv", ".tab"):
        return _read_delimited(path, text, delimiter="\t", quoting=csv.QUOTE_NONE)
    if suffix in (".jsonl", ".json"):
        return _read_json_records(path, text)
    raise DataFormatError(f"{path}: unknown file type {suffix!r}; use .csv, .tsv, .jsonl or .json")


def _read_delimited(
    path: Path, text: str, delimiter: str, quoting: int
) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, quoting=quoting)
    try:
        header = next(reader)
        rows = []
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                raise DataFormatError(
                    f"{at(path, reader.line_num)}: {len(values)} fields but the header has {len(header)} "
                    f"({', '.join(header)})"
                )
            rows.append((reader.line_num, dict(zip(header, values, strict=True))))
    except csv.Error as err:
        raise DataFormatError(f"{at(path, reader.line_num)}: {err}") from None
    if not rows:
        raise DataFormatError(f"{path}: only a header line, no data rows")
    return header, rows


def _read_json_records(path: Path, text: str) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    stripped = text.lstrip()
    rows: list[tuple[int, dict[str, Any]]] = []
    if stripped.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as err:
            raise DataFormatError(f"{at(path, err.lineno)}: invalid JSON: {err.msg}") from None
        rows = [(1, item) for item in items]
    else:
        for number, line in enumerate(split_lines(text), start=1):
            if not line.strip():
                continue
            try:
                rows.append((number, json.loads(line)))
            except json.JSONDecodeError as err:
                raise DataFormatError(f"{at(path, number)}: invalid JSON line: {err.msg}") from None
    for number, record in rows:
        if not isinstance(record, dict):
            raise DataFormatError(
                f"{at(path, number)}: expected a JSON object, found {type(record).__name__}"
            )
    if not rows:
        raise DataFormatError(f"{path}: no records")
    columns = list(dict.fromkeys(key for _, record in rows for key in record))
    return columns, rows


def read_classification(path: str | Path, **options: Any) -> list[ClassificationExample]:
    """Examples of one CSV/TSV/JSON-lines file; ``options`` are those of :func:`classification_examples`."""
    columns, rows = read_records(path)
    return classification_examples(path, columns, rows, **options)


def classification_examples(
    path: str | Path,
    columns: list[str],
    rows: list[tuple[int, dict[str, Any]]],
    text_column: str = "sentence",
    pair_column: str | None = None,
    label_column: str | None = "label",
    regression: bool = False,
    strip_spaces: bool = False,
) -> list[ClassificationExample]:
    """Examples of ``(line, record)`` rows with the given columns; ``path`` names the source in error
    messages (a file, or a Hub dataset split).

    label_column None reads unlabelled data (prediction). regression True parses labels as floats.
    strip_spaces applies the original's ``glue_strip_spaces`` to text and pair.
    """
    wanted = [c for c in (text_column, pair_column, label_column) if c is not None]
    missing = [c for c in wanted if c not in columns]
    if missing:
        raise DataFormatError(
            f"{path}: missing column(s) {', '.join(missing)}; the file has {', '.join(columns)}. "
            "Choose the columns with the text/pair/label column options"
        )
    examples = []
    for number, record in rows:
        text = _field(path, number, record, text_column)
        pair = _field(path, number, record, pair_column) if pair_column else None
        label: str | float | None = None
        if label_column is not None:
            raw = record.get(label_column)
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                raise DataFormatError(f"{at(path, number)}: empty label in column {label_column!r}")
            label = _parse_label(path, number, raw, regression)
        if strip_spaces:
            text = glue_strip_spaces(text)
            pair = glue_strip_spaces(pair) if pair is not None else None
        examples.append(ClassificationExample(text=text, pair=pair, label=label))
    return examples


def _field(path: str | Path, number: int, record: dict[str, Any], column: str) -> str:
    value = record.get(column)
    if not isinstance(value, str):
        raise DataFormatError(
            f"{at(path, number)}: column {column!r} must hold text, found {type(value).__name__}"
        )
    return value


def _parse_label(path: str | Path, number: int, raw: Any, regression: bool) -> str | float:
    if regression:
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise DataFormatError(f"{at(path, number)}: regression label {raw!r} is not a number") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise DataFormatError(f"{at(path, number)}: regression label {raw!r} is not finite")
        return value
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise DataFormatError(f"{at(path, number)}: class label {raw!r} must be a string or an integer")
    return str(raw).strip()


def classification_feature(encoding: Any, label: int | float | None) -> dict[str, Any]:
    """Feature dict (for `pixel.render.batch.collate`): the rendered example and its label id (or
    regression value)."""
    feature: dict[str, Any] = {
        "pixel_values": encoding.pixel_values,
        "num_text_patches": encoding.num_text_patches,
    }
    if label is not None:
        feature["labels"] = label
    return feature


def label_vocabulary(train: list[ClassificationExample]) -> LabelVocabulary | None:
    """Class vocabulary of the training examples (sorted); None for regression (float labels)."""
    labels = [e.label for e in train]
    if any(label is None for label in labels):
        raise ValueError("training examples need labels; read them with a label_column")
    if all(isinstance(label, float) for label in labels):
        return None
    return LabelVocabulary.from_data(str(label) for label in labels)


def encode_labels(
    examples: list[ClassificationExample], vocabulary: LabelVocabulary | None
) -> tuple[list[int | float], Counter[str]]:
    """Label ids (classification; unseen labels -> IGNORE_INDEX and counted, see labels.py) or the float
    values unchanged (regression, vocabulary None)."""
    if vocabulary is None:
        return [float(e.label) for e in examples], Counter()  # type: ignore[arg-type]
    return vocabulary.encode_all(str(e.label) for e in examples)  # type: ignore[return-value]
