"""CoNLL-U treebanks for POS tagging (UPOS) and dependency parsing (HEAD, DEPREL).

Columns (1-based): 1 ID, 2 FORM, 4 UPOS, 7 HEAD, 8 DEPREL (cut at ':' as the original, ``nmod:poss`` ->
``nmod``). Multiword-token lines (``1-2``) and empty nodes (``1.1``) are skipped; comments start with '#';
sentences end at a blank line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .labels import IGNORE_INDEX
from .reading import DataFormatError, at, read_lines

# The 17 UPOS tags of Universal Dependencies v2 (the original's label list for POS).
UPOS_LABELS = (
    "ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM",
    "PART", "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X",
)  # fmt: skip


@dataclass
class ConlluSentence:
    """One sentence: per word its form, UPOS tag, head (0 = root, 1-based word index; IGNORE_INDEX for a
    HEAD of '_') and relation."""

    words: list[str]
    upos: list[str]
    heads: list[int]
    relations: list[str]
    sent_id: str | None = None

    def renderer_input(self) -> list[str]:
        """Word list for the renderer (word-list mode)."""
        return list(self.words)


def read_conllu(path: str | Path) -> list[ConlluSentence]:
    """All sentences of a CoNLL-U file; a malformed line raises DataFormatError naming ``file:line``."""
    sentences: list[ConlluSentence] = []
    rows: list[tuple[int, list[str]]] = []
    sent_id: str | None = None

    def close_sentence() -> None:
        nonlocal rows, sent_id
        if rows:
            sentences.append(_sentence_from_rows(path, rows, sent_id))
        rows, sent_id = [], None

    for number, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            close_sentence()
            continue
        if line.startswith("#"):
            if line.startswith("# sent_id") and "=" in line:
                sent_id = line.split("=", 1)[1].strip()
            continue
        columns = line.split("\t")
        if len(columns) != 10:
            raise DataFormatError(
                f"{at(path, number)}: expected 10 tab-separated columns, found {len(columns)}; "
                "CoNLL-U needs ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC separated by tabs"
            )
        word_id = columns[0]
        if "-" in word_id or "." in word_id:
            continue  # multiword token or empty node
        rows.append((number, columns))
    close_sentence()
    if not sentences:
        raise DataFormatError(f"{path}: no sentences found (no token lines)")
    return sentences


def _sentence_from_rows(
    path: str | Path, rows: list[tuple[int, list[str]]], sent_id: str | None
) -> ConlluSentence:
    words, upos, heads, relations = [], [], [], []
    for expected_id, (number, columns) in enumerate(rows, start=1):
        word_id, form, _lemma, tag, _xpos, _feats, head, relation = columns[:8]
        if not word_id.isdigit() or int(word_id) != expected_id:
            raise DataFormatError(
                f"{at(path, number)}: word ID {word_id!r} where {expected_id} was expected; IDs must count "
                "1, 2, 3, ... within a sentence, with a blank line between sentences"
            )
        if not head.isdigit() and head != "_":
            raise DataFormatError(f"{at(path, number)}: HEAD {head!r} is not a word number (0 = root)")
        if head.isdigit() and int(head) > len(rows):
            raise DataFormatError(
                f"{at(path, number)}: HEAD {head} points past the last word ({len(rows)}) of the sentence"
            )
        if not form:
            raise DataFormatError(f"{at(path, number)}: empty FORM column")
        words.append(form)
        upos.append(tag)
        heads.append(int(head) if head.isdigit() else IGNORE_INDEX)
        relations.append(relation.split(":")[0])
    return ConlluSentence(words=words, upos=upos, heads=heads, relations=relations, sent_id=sent_id)
