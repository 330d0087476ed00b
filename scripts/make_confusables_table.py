"""Build src/pixel/attack/tables/confusables.tsv (the confusable attack's table) from Unicode's confusables data.

    python scripts/make_confusables_table.py SOURCE [src/pixel/attack/tables/confusables.tsv]

SOURCE is Unicode's ``confusables.txt`` (security data, lines ``0430 ; 0061 ; MA # ...``: the first code
point(s) are confusable with the second), or the ``confusables.json`` that the confusable-homoglyphs package
ships (built from that file; ``pip download --no-deps confusable-homoglyphs`` and unzip the wheel).

For each ASCII letter and digit the table keeps the single code points that Unicode lists as confusable with
it and that *look like it to PIXEL*: drawn with the default PangoCairo renderer (the bundled Noto Sans, no
system fonts), the candidate must be drawable and its first two patches must be nearly identical to the base
character's (mean absolute grey difference under NEAR_IDENTICAL) or closer to them than any other ASCII letter
or digit is. That drops glyphs the fonts lack (boxes), combining marks and stylised variants that read as
something else.
"""

from __future__ import annotations

import json
import string
import sys
import unicodedata
from pathlib import Path

import numpy as np

BASES = string.ascii_letters + string.digits
NEAR_IDENTICAL = 0.01  # mean |difference| of [16, 32] grey pictures in [0, 1]: about 5 of 512 pixels flipped
DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "src" / "pixel" / "attack" / "tables" / "confusables.tsv"
HEADER = """\
# Confusable characters for pixel.attack (the "confusable" attack): base<TAB>look-alikes separated by spaces.
# Derived from Unicode's confusables.txt (Unicode Security Mechanisms, UTS #39, security data; here read
# from {source}); modified: only single code points confusable with an ASCII letter or digit, kept
# when PIXEL's default renderer draws them nearly identical to the base or closer to it than to any other
# ASCII letter or digit (scripts/make_confusables_table.py). Copyright (c) Unicode, Inc.; Unicode License v3, see
# LICENSE-unicode.txt beside this file.
"""


def groups_from_txt(path: Path) -> dict[str, set[str]]:
    """base -> characters Unicode maps onto it, from the official ``source ; target ; type`` lines."""
    groups: dict[str, set[str]] = {}
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        fields = line.split("#", 1)[0].split(";")
        if len(fields) < 2:
            continue
        source = "".join(chr(int(cp, 16)) for cp in fields[0].split())
        target = "".join(chr(int(cp, 16)) for cp in fields[1].split())
        groups.setdefault(target, set()).add(source)
    return groups


def groups_from_json(path: Path) -> dict[str, set[str]]:
    """base -> its confusables, from confusable-homoglyphs' ``{char: [{"c": ..., "n": ...}, ...]}``."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {key: {entry["c"] for entry in entries} for key, entries in data.items()}


def candidates(groups: dict[str, set[str]], base: str) -> list[str]:
    found = sorted(c for c in groups.get(base, ()) if len(c) == 1 and not c.isascii())
    return [c for c in found if unicodedata.category(c)[0] not in "MZC"]


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2):
        print(__doc__, file=sys.stderr)
        return 2
    from pixel.render.pangocairo import PangoCairoTextRenderer

    source = Path(argv[0])
    output = Path(argv[1]) if len(argv) == 2 else DEFAULT_OUTPUT
    groups = groups_from_json(source) if source.suffix == ".json" else groups_from_txt(source)
    renderer = PangoCairoTextRenderer(max_seq_length=8)

    def picture(char: str) -> np.ndarray | None:
        encoding = renderer.render_text(char)
        if encoding.unrenderable_chars:
            return None
        return encoding.pixel_values[:, :32].astype(np.float64) / 255.0

    base_pictures = {base: picture(base) for base in BASES}
    rows = []
    for base in BASES:
        own = base_pictures[base]
        nearest_other = min(float(np.abs(own - other).mean()) for key, other in base_pictures.items() if key != base)
        kept = []
        for char in candidates(groups, base):
            drawn = picture(char)
            if drawn is not None and float(np.abs(own - drawn).mean()) < max(nearest_other, NEAR_IDENTICAL):
                kept.append(char)
        if kept:
            rows.append(f"{base}\t{' '.join(kept)}")
    name = "confusable-homoglyphs' confusables.json" if source.suffix == ".json" else "confusables.txt"
    output.write_text(HEADER.format(source=name) + "\n".join(rows) + "\n", encoding="utf-8")
    print(f"{output}: {len(rows)} base characters, {sum(len(r.split()) - 1 for r in rows)} look-alikes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
