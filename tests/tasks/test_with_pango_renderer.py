"""Task data with the project's PangoCairo renderer: QA round trips and word-start labels on real renders."""

from __future__ import annotations

import pytest

from pixel.data.tasks.alignment import token_feature
from pixel.data.tasks.labels import IGNORE_INDEX, LabelVocabulary
from pixel.data.tasks.ner import label_list, read_conll_ner
from pixel.data.tasks.qa import QAExample, build_qa_features, read_squad

from .conftest import TASK_DATA, round_trip_answer

pangocairo = pytest.importorskip("pixel.render.pangocairo")


@pytest.fixture(scope="module")
def renderer():
    try:
        return pangocairo.PangoCairoTextRenderer(max_seq_length=128)
    except (ImportError, OSError) as err:  # Pango/cairo system libraries missing
        pytest.skip(f"PangoCairo renderer unavailable: {err}")


@pytest.mark.parametrize("name", ["tiny_squad_v1.json", "tiny_qa_flat.jsonl"])
def test_every_answer_survives_patches_and_back(renderer, name):
    for example in read_squad(TASK_DATA / name).examples:
        encoding = renderer(
            example.renderer_input(), return_offset_mapping=True, return_overflowing_patches=True, stride=16
        )
        features = build_qa_features(example, encoding)
        answered = [f for f in features if f.start_position < 128]
        assert answered, f"{example.id}: no window holds the answer"
        assert all(f.start_position <= f.end_position for f in answered)
        assert round_trip_answer(example, encoding) == example.answer_texts[0], example.id


def test_long_context_is_split_into_overlapping_windows(renderer):
    example = next(e for e in read_squad(TASK_DATA / "tiny_squad_v1.json").examples if e.id == "pixel-end")
    encoding = renderer(
        example.renderer_input(), return_offset_mapping=True, return_overflowing_patches=True, stride=16
    )
    features = build_qa_features(example, encoding)
    assert len(features) > 5
    assert features[-1].start_position < 128  # the answer is at the end of the context


def test_ner_labels_land_on_rendered_word_starts(renderer):
    sentences = read_conll_ner(TASK_DATA / "tiny_ner.txt")
    vocabulary = LabelVocabulary.from_data(label_list(sentences), first=["O"])
    for sentence in sentences:
        encoding = renderer(sentence.renderer_input())
        ids, _ = vocabulary.encode_all(sentence.labels)
        labels = token_feature(encoding, ids)["labels"]
        assert [int(labels[s]) for s in encoding.word_starts[:-1]] == ids
        assert int((labels != IGNORE_INDEX).sum()) == len(sentence.words)
        assert encoding.word_starts == sorted(set(encoding.word_starts))  # one first patch per word


def test_right_to_left_answers_survive_patches_and_back(renderer):
    context = "אני בסדר גמור, תודה רבה לך. מחר נלך לים עם החברים שלנו."
    for answer in ["בסדר גמור", "תודה רבה", "מחר", "החברים שלנו"]:
        example = QAExample("he", "מה שלומך?", context, [answer], [context.index(answer)])
        encoding = renderer(
            example.renderer_input(), return_offset_mapping=True, return_overflowing_patches=True
        )
        (feature,) = build_qa_features(example, encoding)
        assert feature.start_position <= feature.end_position < 128
        assert round_trip_answer(example, encoding) == answer
