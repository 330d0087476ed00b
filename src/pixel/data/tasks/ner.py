"""CoNLL-style NER files: one ``word label`` line per token, a blank line between sentences.

Columns are separated by spaces or tabs (a line holding a tab is split at tabs only, so that a word may
contain a space, as segmentation-attacked copies do); the word is the first column and the label the last
(so the four-column CoNLL-2003 layout works too). ``-DOCSTART-`` lines are skipped; lines holding only whitespace
end a sentence. Labels must be ``O`` or ``B-TYPE`` / ``I-TYPE`` (BIO / IOB2).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .reading import DataFormatError, at, read_lines

# The original's default label set (MasakhaNER).
MASAKHANER_LABELS = ("O", "B-DATE", "I-DATE", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")


@dataclass
class NerSentence:
    words: list[str]
    labels: list[str]

    def renderer_input(self) -> list[str]:
        """Word list for the renderer (word-list mode)."""
        return list(self.words)


def read_conll_ner(path: str | Path) -> list[NerSentence]:
    """All sentences of a CoNLL NER file; a malformed line raises DataFormatError naming ``file:line``."""
    sentences: list[NerSentence] = []
    words: list[str] = []
    labels: list[str] = []
    for number, line in enumerate(read_lines(path), start=1):
        if not line.strip() or line.startswith("-DOCSTART-"):
            if words:
                sentences.append(NerSentence(words, labels))
                words, labels = [], []
            continue
        columns = split_columns(line)
        if len(columns) < 2:
            raise DataFormatError(
                f"{at(path, number)}: expected 'word label' (two columns), found {len(columns)} column(s): "
                f"{line.strip()!r}"
            )
        label = columns[-1]
        check_bio_label(label, f"{at(path, number)}")
        words.append(columns[0])
        labels.append(label)
    if words:
        sentences.append(NerSentence(words, labels))
    if not sentences:
        raise DataFormatError(f"{path}: no sentences found")
    return sentences


def split_columns(line: str) -> list[str]:
    """The columns of a token line: at tabs if it holds one (a word may then contain a space), else at
    runs of whitespace."""
    return [c.strip() for c in line.split("\t") if c.strip()] if "\t" in line else line.split()


def check_bio_label(label: str, where: str) -> None:
    """Raise DataFormatError unless ``label`` is ``O`` or ``B-TYPE`` / ``I-TYPE``."""
    if label == "O":
        return
    if len(label) > 2 and label[0] in "BI" and label[1] == "-":
        return
    raise DataFormatError(
        f"{where}: label {label!r} is not BIO/IOB2; use 'O', 'B-TYPE' or 'I-TYPE' (e.g. B-PER)"
    )


def label_list(sentences: list[NerSentence]) -> list[str]:
    """Every label of the sentences, flattened (for building a vocabulary)."""
    return [label for sentence in sentences for label in sentence.labels]
