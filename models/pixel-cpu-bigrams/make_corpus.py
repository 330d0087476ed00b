"""Build the pretraining text: Debian fortunes in 7 languages, the King James Bible, Turkish treebank sentences.

Sources (all offline): fortunes, fortunes-min, fortunes-de, -es, -it, -ru, -pl, -cs (/usr/share/games/fortunes), bible-kjv
(`bible -f Gen1:1-Rev22:21`), the training split of the Turkish treebank written by scripts/prepare_offline_data.py
(only tr-train.conllu: the dev and test sentences of the fine-tuning runs are never pretrained on).
Each text becomes one line; every 50th line of each source goes to the validation file (also one file per source,
dev-SOURCE.txt). Both files are shuffled with a fixed seed. Usage: python make_corpus.py TR_TRAIN_CONLLU OUT_DIR
"""
from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

FORTUNES = Path("/usr/share/games/fortunes")
# English: the files of Debian's fortunes and fortunes-min packages, without ASCII art and the files that are lists.
ENGLISH = ["art", "computers", "cookie", "debian", "definitions", "drugs", "education", "ethnic", "food", "fortunes",
           "goedel", "humorists", "kids", "law", "linux", "linuxcookie", "literature", "love", "magic", "medicine",
           "men-women", "miscellaneous", "news", "people", "pets", "platitudes", "politics", "pratchett", "riddles",
           "science", "songs-poems", "sports", "startrek", "wisdom", "work", "zippy"]
FORTUNE_SOURCES = {"en": ENGLISH, "de": ["de"], "es": ["es"], "it": ["it"],
                   "ru": ["ru"], "pl": ["pl"], "cs": ["cs"]}


def fortunes(path: Path):
    text = path.read_bytes().decode("utf-8", errors="replace")
    for chunk in text.split("\n%\n"):
        line = " ".join(chunk.replace("\t", " ").split())
        if line and "\ufffd" not in line and line != "%":
            yield line


def fortune_lines(names):
    for name in names:
        path = FORTUNES / name
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix not in (".dat", ".u8")) if path.is_dir() else [path]
        for file in files:
            yield from fortunes(file)


def bible_lines():
    out = subprocess.run(["bible", "-f", "Gen1:1-Rev22:21"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        reference, _, verse = line.partition(" ")
        if verse.strip():
            yield verse.strip()


def treebank_lines(conllu: Path):
    for line in conllu.read_text(encoding="utf-8").splitlines():
        if line.startswith("# text = "):
            yield line[len("# text = "):].strip()


def main(tr_train: str, out_dir: str) -> None:
    sources = {f"fortunes-{lang}": list(fortune_lines(names)) for lang, names in FORTUNE_SOURCES.items()}
    sources["bible-en"] = list(bible_lines())
    sources["treebank-tr"] = list(treebank_lines(Path(tr_train)))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    train, dev = [], []
    for name, lines in sources.items():
        held = [line for i, line in enumerate(lines) if i % 50 == 49]
        train += [line for i, line in enumerate(lines) if i % 50 != 49]
        dev += held
        random.Random(2).shuffle(held)
        (out / f"dev-{name}.txt").write_text("\n".join(held) + "\n", encoding="utf-8")
        print(f"{name}: {len(lines)} texts, {sum(map(len, lines)) / 1e6:.2f}M characters")
    random.Random(0).shuffle(train)
    random.Random(1).shuffle(dev)
    (out / "train.txt").write_text("\n".join(train) + "\n", encoding="utf-8")
    (out / "dev.txt").write_text("\n".join(dev) + "\n", encoding="utf-8")
    print(f"{len(train)} train / {len(dev)} validation texts")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
