"""Shared helpers of the task readers: opening files and errors that name the file and line."""

from __future__ import annotations

from pathlib import Path


class DataFormatError(ValueError):
    """Malformed input data; the message names the file (and line) and says what to fix."""


def read_lines(path: str | Path) -> list[str]:
    """Lines of a UTF-8 text file without their line ends.

    Raises FileNotFoundError for a missing file and DataFormatError for an empty file, a file that is not
    UTF-8 (naming the line) or a directory.
    """
    return split_lines(read_text(path))


def split_lines(text: str) -> list[str]:
    """Lines split at "\n" only (a trailing "\r" removed): str.splitlines would also split inside a token
    or a JSON string at U+2028, U+0085 or form feeds, which web text contains."""
    lines = [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def read_text(path: str | Path) -> str:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if path.is_dir():
        raise DataFormatError(f"{path}: is a directory; give the data file itself")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise DataFormatError(
            f"{path}:{line}: not valid UTF-8 (byte {raw[err.start]:#x}); convert the file to UTF-8"
        ) from None
    if not text.strip():
        raise DataFormatError(f"{path}: the file is empty")
    return text


def at(path: str | Path, line: int) -> str:
    """``file:line`` prefix of an error message (line numbers start at 1)."""
    return f"{path}:{line}"
