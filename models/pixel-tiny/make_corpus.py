"""Build the training text of pixel-tiny from Debian's fortune packages (offline, after
`apt-get install fortunes-min fortunes-de fortunes-es fortunes-it fortunes-ru`).

Each fortune (the text between lines holding only "%") becomes one line; every 50th fortune goes to the
validation file. Both files are shuffled with a fixed seed, so that training and validation mix the languages
(the packages come one language after the other). Usage: python make_corpus.py OUT_DIR
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

SOURCES = ["fortunes", "literature", "riddles", "de", "es", "it", "ru"]
ROOT = Path("/usr/share/games/fortunes")


def fortunes(path: Path):
    text = path.read_bytes().decode("utf-8", errors="replace")
    for chunk in text.split("\n%\n"):
        line = " ".join(chunk.replace("\t", " ").split())
        if line and "\ufffd" not in line:
            yield line


def main(out_dir: str) -> None:
    files = []
    for name in SOURCES:
        path = ROOT / name
        files += sorted(p for p in path.iterdir() if p.is_file() and "." not in p.name) if path.is_dir() else [path]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    train, dev = [], []
    for file in files:
        for number, line in enumerate(fortunes(file)):
            (dev if number % 50 == 49 else train).append(line)
    random.Random(0).shuffle(train)
    random.Random(1).shuffle(dev)
    (out / "train.txt").write_text("\n".join(train) + "\n", encoding="utf-8")
    (out / "dev.txt").write_text("\n".join(dev) + "\n", encoding="utf-8")
    print(f"{len(files)} files: {len(train)} train / {len(dev)} validation fortunes")


if __name__ == "__main__":
    main(sys.argv[1])
