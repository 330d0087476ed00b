"""Word-level labels onto patches (POS, NER) and parsing targets, from a word-list Encoding's word_starts.

``word_starts`` (from the renderer, word-list mode): the start patch of each *rendered* word, then a final
entry equal to num_text_patches. The renderer stops drawing when the strip is full, so it may hold fewer
words than the sentence; the words it dropped get no label (IGNORE_INDEX) and are counted in the result so
callers can report truncation. (The original kept parsing labels for dropped words, pointing the loss at
zero vectors; we ignore them instead.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .labels import IGNORE_INDEX, LabelVocabulary


def _rendered_word_count(word_starts: Sequence[int], num_words: int, num_patches: int) -> int:
    if len(word_starts) < 1:
        raise ValueError("word_starts is empty; it needs one entry per rendered word plus a final entry")
    rendered = len(word_starts) - 1
    if rendered > num_words:
        raise ValueError(
            f"the encoding has {rendered} word starts but the sentence only {num_words} words; "
            "render the same word list that the labels belong to"
        )
    if any(start < 0 or start > num_patches for start in word_starts):
        raise ValueError(
            f"word_starts {list(word_starts)} fall outside the {num_patches} patches of the strip"
        )
    return rendered


@dataclass
class WordLabelTargets:
    """labels: int64 [L], the word's label id on its first patch, IGNORE_INDEX elsewhere."""

    labels: np.ndarray
    words_dropped: int


def word_labels_to_patches(
    word_starts: Sequence[int], word_label_ids: Sequence[int], num_patches: int
) -> WordLabelTargets:
    """Put each rendered word's label on its first patch (``word_starts[:-1]``), IGNORE_INDEX elsewhere."""
    rendered = _rendered_word_count(word_starts, len(word_label_ids), num_patches)
    labels = np.full(num_patches, IGNORE_INDEX, dtype=np.int64)
    for start, label in zip(word_starts[:rendered], word_label_ids[:rendered], strict=True):
        if start < num_patches:
            labels[start] = label
    return WordLabelTargets(labels=labels, words_dropped=len(word_label_ids) - rendered)


def patch_predictions_to_words(patch_predictions: Sequence[int], word_starts: Sequence[int]) -> list[int]:
    """Per rendered word, the prediction read at its first patch. patch_predictions: [L] ids."""
    return [int(patch_predictions[start]) for start in word_starts[:-1] if start < len(patch_predictions)]


def decode_word_predictions(
    patch_predictions: Sequence[int],
    word_starts: Sequence[int],
    vocabulary: LabelVocabulary,
    num_words: int,
    missing_label: str,
) -> list[str]:
    """One predicted label string per word of the sentence, for scoring against the gold strings.

    Words the renderer dropped get ``missing_label`` (use "O" for NER, so a dropped entity is a miss, and a
    string that is no label, e.g. "", for accuracy, so a dropped word is an error).
    """
    predicted = [vocabulary.decode(i) for i in patch_predictions_to_words(patch_predictions, word_starts)]
    if len(predicted) > num_words:
        raise ValueError(f"{len(predicted)} rendered words but the sentence has {num_words}")
    return predicted + [missing_label] * (num_words - len(predicted))


@dataclass
class ParsingTargets:
    """Inputs/labels of the biaffine parsing head for one sentence.

    word_starts: int64 [L+1], rendered word starts + final entry, padded with IGNORE_INDEX.
    arc_labels: int64 [L], gold head per rendered word (0 = root), IGNORE_INDEX for padding, dropped words,
        unknown heads ('_') and heads that point to a dropped word or beyond L.
    rel_labels: int64 [L], relation id per word, IGNORE_INDEX wherever arc_labels is and for relations
        that training never saw.
    """

    word_starts: np.ndarray
    arc_labels: np.ndarray
    rel_labels: np.ndarray
    words_dropped: int


def parsing_targets(
    word_starts: Sequence[int], heads: Sequence[int], relation_ids: Sequence[int], num_patches: int
) -> ParsingTargets:
    if len(heads) != len(relation_ids):
        raise ValueError(f"{len(heads)} heads but {len(relation_ids)} relations; give one of each per word")
    rendered = _rendered_word_count(word_starts, len(heads), num_patches)
    starts = np.full(num_patches + 1, IGNORE_INDEX, dtype=np.int64)
    starts[: len(word_starts)] = word_starts
    arcs = np.full(num_patches, IGNORE_INDEX, dtype=np.int64)
    rels = np.full(num_patches, IGNORE_INDEX, dtype=np.int64)
    for i in range(rendered):
        head, relation = heads[i], relation_ids[i]
        if 0 <= head <= rendered and head <= num_patches:
            arcs[i] = head
            rels[i] = relation  # IGNORE_INDEX stays for a relation unseen in training
    return ParsingTargets(
        word_starts=starts, arc_labels=arcs, rel_labels=rels, words_dropped=len(heads) - rendered
    )


def token_feature(encoding: Any, word_label_ids: Sequence[int]) -> dict[str, Any]:
    """Feature dict (for `pixel.render.batch.collate`) of a POS/NER sentence from its word-list Encoding."""
    if encoding.word_starts is None:
        raise ValueError("the encoding has no word_starts; render the sentence as a word list (list[str])")
    targets = word_labels_to_patches(encoding.word_starts, word_label_ids, encoding.num_patches)
    return {
        "pixel_values": encoding.pixel_values,
        "num_text_patches": encoding.num_text_patches,
        "labels": targets.labels,
    }


def parsing_feature(encoding: Any, heads: Sequence[int], relation_ids: Sequence[int]) -> dict[str, Any]:
    """Feature dict (for `pixel.render.batch.collate`) of a parsing sentence from its word-list Encoding."""
    if encoding.word_starts is None:
        raise ValueError("the encoding has no word_starts; render the sentence as a word list (list[str])")
    targets = parsing_targets(encoding.word_starts, heads, relation_ids, encoding.num_patches)
    return {
        "pixel_values": encoding.pixel_values,
        "num_text_patches": encoding.num_text_patches,
        "word_starts": targets.word_starts,
        "arc_labels": targets.arc_labels,
        "rel_labels": targets.rel_labels,
    }
