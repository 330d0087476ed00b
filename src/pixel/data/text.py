"""Text sources for pretraining and the original's line packing (spec 1.5).

A source yields lines of text: from local files (plain text, JSON lines, Parquet; globs allowed), from a
Hugging Face ``datasets`` dataset (optional dependency) or from any re-iterable Python object. ``pack_lines``
joins consecutive lines with single spaces while the sum of their rendered widths stays below the strip
width, as the original's prerendering did.
"""

from __future__ import annotations

import glob
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

PLAIN_SUFFIXES = {".txt", ".text", ""}
JSON_LINES_SUFFIXES = {".jsonl", ".json", ".ndjson"}
PARQUET_SUFFIXES = {".parquet"}
MAX_REPORTED_PROBLEMS = 20


@dataclass
class InputReport:
    """What was skipped or changed while reading, so nothing is lost silently.

    skipped_lines: lines dropped (bad UTF-8, bad JSON, missing field); ``problems`` holds the first
    MAX_REPORTED_PROBLEMS as "file:line: reason". split_lines: lines longer than one strip that were split at
    word boundaries. short_examples: packed examples dropped by the min-patches filter.
    """

    skipped_lines: int = 0
    problems: list[str] = field(default_factory=list)
    empty_files: list[str] = field(default_factory=list)
    split_lines: int = 0
    short_examples: int = 0

    def skip(self, where: str, reason: str) -> None:
        self.skipped_lines += 1
        if len(self.problems) < MAX_REPORTED_PROBLEMS:
            self.problems.append(f"{where}: {reason}")

    def summary(self) -> str:
        parts = [f"{self.skipped_lines} bad lines skipped", f"{self.split_lines} long lines split",
                 f"{self.short_examples} short examples dropped", f"{len(self.empty_files)} empty files"]
        text = ", ".join(parts)
        if self.problems:
            text += "; first problems: " + "; ".join(self.problems[:5])
        return text


def expand_files(patterns: str | os.PathLike | Iterable[str | os.PathLike]) -> list[Path]:
    """Sorted files matching each glob pattern (or plain path), in the order the patterns are given.

    A pattern that matches nothing is an error naming it (a typo must not silently shrink the corpus).
    """
    if isinstance(patterns, str | os.PathLike):
        patterns = [patterns]
    files: list[Path] = []
    for pattern in patterns:
        pattern = os.path.expanduser(str(pattern))
        matches = sorted(glob.glob(pattern, recursive=True)) if glob.has_magic(pattern) else [pattern]
        matches = [m for m in matches if os.path.isfile(m)]
        if not matches:
            raise FileNotFoundError(f"no text file matches {pattern!r}; check the path or glob pattern")
        files.extend(Path(m) for m in matches)
    return files


def _decode_lines(path: Path, on_bad_input: str, report: InputReport) -> Iterator[tuple[int, str]]:
    """(line number, text) for each line of a UTF-8 file; undecodable lines are skipped or an error."""
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                yield number, raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as err:
                reason = f"not valid UTF-8 (byte {err.start}: {raw[err.start:err.start + 1]!r})"
                if on_bad_input == "error":
                    raise ValueError(f"{path}:{number}: {reason}; fix the file or use on_bad_input=skip") from None
                report.skip(f"{path}:{number}", reason)


def _json_text(obj: object, text_field: str) -> str:
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    if text_field not in obj:
        raise ValueError(f"no field {text_field!r} (fields: {', '.join(sorted(obj)) or 'none'}); set text_field")
    value = obj[text_field]
    if not isinstance(value, str):
        raise ValueError(f"field {text_field!r} is {type(value).__name__}, not a string")
    return value


def _read_parquet(path: Path, text_field: str) -> Iterator[str]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise RuntimeError(f"reading {path} needs pyarrow: pip install pyarrow (or convert it to JSON lines)") from None
    parquet = pq.ParquetFile(path)
    if text_field not in parquet.schema_arrow.names:
        raise ValueError(f"{path}: no column {text_field!r} (columns: {', '.join(parquet.schema_arrow.names)})")
    for batch in parquet.iter_batches(columns=[text_field]):
        for value in batch.column(0).to_pylist():
            if isinstance(value, str):
                yield value


def iter_file_lines(files: Iterable[Path], text_field: str = "text", on_bad_input: str = "skip",
                    report: InputReport | None = None) -> Iterator[str]:
    """Non-blank lines (paragraphs) of each file; the format follows the suffix (.jsonl/.json, .parquet, else text)."""
    if on_bad_input not in ("skip", "error"):
        raise ValueError(f"on_bad_input must be 'skip' or 'error', got {on_bad_input!r}")
    report = report if report is not None else InputReport()
    for path in files:
        if os.path.getsize(path) == 0:
            report.empty_files.append(str(path))
            continue
        suffix = path.suffix.lower()
        if suffix in PARQUET_SUFFIXES:
            texts: Iterable[str] = _read_parquet(path, text_field)
        else:
            texts = _file_texts(path, suffix in JSON_LINES_SUFFIXES, text_field, on_bad_input, report)
        for text in texts:
            for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
                line = " ".join(line.split())
                if line:
                    yield line


def _file_texts(path: Path, is_json: bool, text_field: str, on_bad_input: str, report: InputReport) -> Iterator[str]:
    for number, line in _decode_lines(path, on_bad_input, report):
        if not is_json:
            yield line
            continue
        if not line.strip():
            continue
        try:
            yield _json_text(json.loads(line), text_field)
        except (ValueError, json.JSONDecodeError) as err:
            if on_bad_input == "error":
                raise ValueError(f"{path}:{number}: {err}") from None
            report.skip(f"{path}:{number}", str(err))


@dataclass
class TextSource:
    """A re-iterable stream of text lines, picklable so that DataLoader workers can read it themselves.

    Exactly one of: ``files`` (paths or glob patterns), ``texts`` (a list/tuple or any re-iterable object, or a
    zero-argument callable returning an iterable), ``hf_dataset`` (a ``datasets`` name or local path, needs the
    optional ``datasets`` package).
    """

    files: list[str] | None = None
    texts: Iterable[str] | Callable[[], Iterable[str]] | None = None
    hf_dataset: str | None = None
    hf_split: str = "train"
    hf_config: str | None = None
    text_field: str = "text"
    on_bad_input: str = "skip"

    def __post_init__(self) -> None:
        given = [x is not None for x in (self.files, self.texts, self.hf_dataset)]
        if sum(given) != 1:
            raise ValueError("give exactly one text source: files, texts or hf_dataset")
        if self.texts is not None and not callable(self.texts) and iter(self.texts) is self.texts:
            raise TypeError("texts is a one-shot iterator; pass a list or a function returning a fresh iterator")
        if self.files is not None:
            self.files = [str(f) for f in expand_files(self.files)]
        self.report = InputReport()

    def __iter__(self) -> Iterator[str]:
        if self.files is not None:
            yield from iter_file_lines(map(Path, self.files), self.text_field, self.on_bad_input, self.report)
            return
        if self.hf_dataset is not None:
            texts: Iterable = _hf_texts(self.hf_dataset, self.hf_config, self.hf_split, self.text_field)
        else:
            texts = self.texts() if callable(self.texts) else self.texts
        for number, text in enumerate(texts, start=1):
            if not isinstance(text, str):
                reason = f"item is {type(text).__name__}, not str"
                if self.on_bad_input == "error":
                    raise TypeError(f"text item {number}: {reason}")
                self.report.skip(f"item {number}", reason)
                continue
            for line in text.replace("\r", "\n").split("\n"):
                line = " ".join(line.split())
                if line:
                    yield line

    def describe(self) -> str:
        if self.files is not None:
            return f"{len(self.files)} file(s) ({self.files[0]}{', ...' if len(self.files) > 1 else ''})"
        return f"dataset {self.hf_dataset!r}" if self.hf_dataset else "the given texts"


def _hf_texts(name: str, config: str | None, split: str, text_field: str) -> Iterator[str]:
    try:
        import datasets
    except ImportError:
        raise RuntimeError("hf_dataset needs the optional package 'datasets': pip install 'pixel-lm[datasets]'") from None
    dataset = datasets.load_dataset(name, config, split=split, streaming=True)
    for row in dataset:
        if text_field not in row:
            raise ValueError(f"dataset {name!r} has no field {text_field!r} (fields: {', '.join(row)})")
        yield row[text_field]


def split_long_line(line: str, width_fn: Callable[[str], float], max_width: float) -> list[str]:
    """Pieces of ``line`` (split at spaces, or inside a word only when one word alone is too wide) each
    narrower than ``max_width``; greedy, so each piece holds as many words as fit."""
    pieces: list[str] = []
    words = line.split(" ")
    start = 0
    while start < len(words):
        # largest end with width(words[start:end]) < max_width, by binary search (width grows with end)
        low, high = start + 1, len(words)
        if width_fn(words[start]) >= max_width:
            pieces.extend(_split_word(words[start], width_fn, max_width))
            start += 1
            continue
        while low < high:
            middle = (low + high + 1) // 2
            if width_fn(" ".join(words[start:middle])) < max_width:
                low = middle
            else:
                high = middle - 1
        pieces.append(" ".join(words[start:low]))
        start = low
    return pieces


def _split_word(word: str, width_fn: Callable[[str], float], max_width: float) -> list[str]:
    pieces = []
    while word:
        low, high = 1, len(word)
        while low < high:
            middle = (low + high + 1) // 2
            if width_fn(word[:middle]) < max_width:
                low = middle
            else:
                high = middle - 1
        pieces.append(word[:low])
        word = word[low:]
    return pieces


def pack_lines(lines: Iterable[str], width_fn: Callable[[str], float], max_width: float,
               min_width: float = 0.0, report: InputReport | None = None) -> Iterator[str]:
    """Examples made of consecutive lines joined by single spaces (spec 1.5).

    Lines are added while the *sum of their widths* (``width_fn``, pixels) stays below ``max_width`` (the
    original: 16 * 529 - 32 = 8432). A line that alone is too wide is split at word boundaries first. Packed
    examples narrower than ``min_width`` are dropped (counted in ``report.short_examples``).
    """
    report = report if report is not None else InputReport()
    buffer: list[str] = []
    buffer_width = 0.0

    def flush() -> Iterator[str]:
        if not buffer:
            return
        if buffer_width >= min_width:
            yield " ".join(buffer)
        else:
            report.short_examples += 1

    for line in lines:
        width = width_fn(line)
        if width >= max_width:
            report.split_lines += 1
            pieces = [(piece, width_fn(piece)) for piece in split_long_line(line, width_fn, max_width)]
        else:
            pieces = [(line, width)]
        for piece, piece_width in pieces:
            if buffer and buffer_width + piece_width >= max_width:
                yield from flush()
                buffer, buffer_width = [], 0.0
            buffer.append(piece)
            buffer_width += piece_width
    yield from flush()


def renderer_width_fn(renderer) -> Callable[[str], float]:
    """Width in pixels of a text rendered alone: the renderer's own ``text_width`` when it has one (fast path),
    else the width of the patches the text occupies (a strip-filling text reads as too wide, so it is split)."""
    text_width = getattr(renderer, "text_width", None)
    if callable(text_width):
        return text_width
    pixels_per_patch = renderer.pixels_per_patch
    return lambda text: renderer(text).num_text_patches * pixels_per_patch
