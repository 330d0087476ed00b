"""The attacks' look-up tables: the shipped files in ``tables/`` (read once) and the QWERTY key neighbours.

``tables/confusables.tsv``  base character -> Unicode look-alikes (derived from Unicode's confusables.txt,
                            Unicode License v3: tables/LICENSE-unicode.txt; scripts/make_confusables_table.py)
``tables/natural_typos.tsv`` English word -> common misspellings
``tables/phonetic.tsv``      English word -> respellings, and spelling rules (lines starting with ``~``)
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

TABLES = Path(__file__).resolve().parent / "tables"

# QWERTY rows and their horizontal offsets in key widths (the stagger of a physical keyboard).
KEYBOARD_ROWS = (("1234567890", 0.0), ("qwertyuiop", 0.5), ("asdfghjkl", 0.75), ("zxcvbnm", 1.25))


def _rows(name: str) -> list[tuple[str, list[str]]]:
    """``key<TAB>value value ...`` lines of a table file (comments and blank lines skipped)."""
    rows = []
    for line in (TABLES / name).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, values = line.split("\t")
        rows.append((key, values.split(" ")))
    return rows


@functools.cache
def confusables() -> dict[str, tuple[str, ...]]:
    """character -> characters that look like it (single code points, never the character itself)."""
    return {key: tuple(values) for key, values in _rows("confusables.tsv")}


@functools.cache
def natural_typos() -> dict[str, tuple[str, ...]]:
    """lower-case English word -> misspellings."""
    return {key: tuple(values) for key, values in _rows("natural_typos.tsv")}


@functools.cache
def phonetic_words() -> dict[str, tuple[str, ...]]:
    """lower-case English word -> spellings that sound like it."""
    return {key: tuple(values) for key, values in _rows("phonetic.tsv") if not key.startswith("~")}


@functools.cache
def phonetic_rules() -> tuple[tuple[re.Pattern[str], str], ...]:
    """Spelling rules in file order: (case-insensitive pattern, replacement template for ``Match.expand``)."""
    return tuple((re.compile(key[1:], re.IGNORECASE), values[0])
                 for key, values in _rows("phonetic.tsv") if key.startswith("~"))


@functools.cache
def keyboard_neighbours() -> dict[str, str]:
    """key -> the keys touching it on a QWERTY keyboard: left and right in its row, and the keys of the
    rows above and below whose centres are less than one key width away."""
    centres = {key: (row, column + offset) for row, (keys, offset) in enumerate(KEYBOARD_ROWS)
               for column, key in enumerate(keys)}
    neighbours = {}
    for key, (row, x) in centres.items():
        near = [other for other, (other_row, other_x) in centres.items() if other != key and (
            (other_row == row and abs(other_x - x) == 1) or (abs(other_row - row) == 1 and abs(other_x - x) < 1))]
        neighbours[key] = "".join(near)
    return neighbours
