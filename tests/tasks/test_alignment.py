"""Word labels onto word-start patches, parsing targets, and the unseen-label policy."""

from __future__ import annotations

import numpy as np
import pytest

from pixel.data.tasks.alignment import (
    decode_word_predictions,
    parsing_feature,
    parsing_targets,
    patch_predictions_to_words,
    token_feature,
    word_labels_to_patches,
)
from pixel.data.tasks.conllu import read_conllu
from pixel.data.tasks.labels import IGNORE_INDEX, LabelVocabulary, describe_unseen
from pixel.data.tasks.ner import label_list, read_conll_ner

from .conftest import TASK_DATA, golden_case

I = IGNORE_INDEX  # noqa: E741


def test_labels_on_first_patch_of_each_word(stub_renderer):
    # "The"(1 patch) "quick"(2) "fox"(1): starts 0, 1, 3, final 4
    encoding = stub_renderer(["The", "quick", "fox"])
    assert encoding.word_starts == [0, 1, 3, 4]
    targets = word_labels_to_patches(encoding.word_starts, [5, 6, 7], num_patches=16)
    assert targets.labels.tolist() == [5, 6, I, 7] + [I] * 12
    assert targets.words_dropped == 0


def test_labels_with_golden_word_starts_of_the_original_renderer():
    words, encoding = golden_case("words_en")  # word_starts [0, 2, 5, 8, 10, 13, 14]
    targets = word_labels_to_patches(encoding.word_starts, list(range(len(words))), num_patches=529)
    expected = np.full(529, I)
    expected[[0, 2, 5, 8, 10, 13]] = [0, 1, 2, 3, 4, 5]
    assert np.array_equal(targets.labels, expected)


def test_words_dropped_by_a_full_strip_get_no_label():
    words, encoding = golden_case("words_overflow")  # the original drew 180 of 360 words
    assert len(words) == 360 and len(encoding.word_starts) == 181
    targets = word_labels_to_patches(encoding.word_starts, [1] * len(words), num_patches=529)
    assert targets.words_dropped == 180
    assert int((targets.labels != I).sum()) == 180
    assert targets.labels[encoding.word_starts[179]] == 1


def test_alignment_rejects_encodings_of_other_sentences(stub_renderer):
    encoding = stub_renderer(["a", "b", "c"])
    with pytest.raises(ValueError, match="3 word starts but the sentence only 2 words"):
        word_labels_to_patches(encoding.word_starts, [0, 1], num_patches=16)
    with pytest.raises(ValueError, match="fall outside"):
        word_labels_to_patches([0, 40], [0], num_patches=16)


def test_patch_predictions_read_back_per_word(stub_renderer):
    encoding = stub_renderer(["The", "quick", "fox"])
    predictions = np.arange(16) * 10
    assert patch_predictions_to_words(predictions, encoding.word_starts) == [0, 10, 30]


def test_token_feature_from_conllu(stub_renderer):
    sentence = read_conllu(TASK_DATA / "tiny.conllu")[0]
    vocabulary = LabelVocabulary.from_data(sentence.upos)
    ids, unseen = vocabulary.encode_all(sentence.upos)
    feature = token_feature(stub_renderer(sentence.renderer_input()), ids)
    # The(1) cat(1) sleeps(2) .(1): starts 0 1 2 4 ; labels DET NOUN VERB PUNCT -> ids 0 1 3 2
    assert feature["labels"][:6].tolist() == [0, 1, 3, I, 2, I]
    assert feature["num_text_patches"] == 5 and not unseen


def test_parsing_targets_pad_and_ignore(stub_renderer):
    encoding = stub_renderer(["The", "cat", "sleeps", "."])
    targets = parsing_targets(
        encoding.word_starts, heads=[2, 3, 0, 3], relation_ids=[0, 1, 2, I], num_patches=16
    )
    assert targets.word_starts.tolist() == [0, 1, 2, 4, 5] + [I] * 12
    assert targets.arc_labels.tolist() == [2, 3, 0, 3] + [I] * 12
    # an unseen relation (IGNORE_INDEX id): the arc is kept, the relation ignored
    assert targets.rel_labels.tolist() == [0, 1, 2, I] + [I] * 12
    assert targets.word_starts.shape == (17,) and targets.arc_labels.shape == (16,)


def test_parsing_heads_to_dropped_words_and_unknown_heads_are_ignored(stub_renderer):
    words = ["a" * 12, "b", "c" * 30, "d"]  # 4 + 1 + 10 patches fill 15 of 16, "d" does not fit
    encoding = stub_renderer(words)
    assert len(encoding.word_starts) - 1 == 3
    targets = parsing_targets(
        encoding.word_starts, heads=[4, 0, I, 2], relation_ids=[0, 1, 2, 3], num_patches=16
    )
    # word 1 points to the dropped word 4, word 3 has HEAD '_', word 4 itself was dropped
    assert targets.arc_labels[:4].tolist() == [I, 0, I, I]
    assert targets.rel_labels[:4].tolist() == [I, 1, I, I]
    assert targets.words_dropped == 1


def test_parsing_feature_keys(stub_renderer):
    sentence = read_conllu(TASK_DATA / "tiny.conllu")[2]
    feature = parsing_feature(stub_renderer(sentence.words), sentence.heads, [0, 1])
    assert set(feature) == {"pixel_values", "num_text_patches", "word_starts", "arc_labels", "rel_labels"}
    assert feature["arc_labels"][:2].tolist() == [2, 0]


def test_unseen_validation_labels_are_reported_and_ignored():
    train = read_conll_ner(TASK_DATA / "tiny_ner.txt")
    vocabulary = LabelVocabulary.from_data(label_list(train), first=["O"])
    assert vocabulary.labels[0] == "O"
    assert vocabulary.labels == ["O", "B-LOC", "B-MISC", "B-ORG", "B-PER", "I-LOC", "I-PER"]
    ids, unseen = vocabulary.encode_all(["B-PER", "B-DATE", "I-DATE", "B-DATE", "O"])
    assert ids == [4, I, I, I, 0]
    assert unseen == {"B-DATE": 2, "I-DATE": 1}
    line = describe_unseen(unseen, "validation")
    assert "3 labels never seen in training (B-DATE x2, I-DATE x1)" in line
    assert describe_unseen(unseen.__class__(), "test") == "test: every label was seen in training"


def test_vocabulary_errors():
    with pytest.raises(ValueError, match="at least one label"):
        LabelVocabulary([])
    with pytest.raises(ValueError, match="duplicate"):
        LabelVocabulary(["a", "a"])
    with pytest.raises(ValueError, match="outside the vocabulary"):
        LabelVocabulary(["a"]).decode(3)


def test_word_predictions_for_scoring_count_dropped_words(stub_renderer):
    vocabulary = LabelVocabulary(["O", "B-PER", "I-PER"])
    words = ["a" * 12, "b", "c" * 30, "d"]  # "d" is dropped (see above)
    encoding = stub_renderer(words)
    patch_predictions = np.zeros(16, dtype=np.int64)
    patch_predictions[[0, 4, 5]] = [1, 2, 0]  # starts of the three rendered words
    assert decode_word_predictions(patch_predictions, encoding.word_starts, vocabulary, 4, "O") == [
        "B-PER",
        "I-PER",
        "O",
        "O",
    ]
    with pytest.raises(ValueError, match="3 rendered words but the sentence has 2"):
        decode_word_predictions(patch_predictions, encoding.word_starts, vocabulary, 2, "O")
