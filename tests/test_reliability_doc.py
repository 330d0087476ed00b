"""docs/reliability.md names, for each bad input, the test that checks it: every named test exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_test_the_reliability_table_names_exists():
    doc = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    named = 0
    for path, first, rest in re.findall(r"`(tests/[\w/]+\.py)::(test_\w+)`((?:, `::test_\w+`)*)", doc):
        source = (ROOT / path).read_text(encoding="utf-8")
        for name in [first, *re.findall(r"::(test_\w+)", rest)]:
            assert re.search(rf"^def {name}\(", source, re.MULTILINE), f"{path}::{name}"
            named += 1
    assert named >= 40
