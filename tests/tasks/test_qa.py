"""QA: training targets from offset mappings of the original renderer, answer spans back from logits.

The offset mappings come from golden renders of the original PangoCairo renderer
(tests/data/golden/render/pair_en_offsets.json, pair_qa_overflow.json). Context patches of pair_en_offsets,
as (chars) 'text': 13 (0,1) 'P', 14 (1,5) 'aris', ..., 22 (25,27) 'mo', 23 (27,30) 'st ', ..., 28 (40,43)
'ity', 29 (43,46) ' of', 30 (46,49) ' Fr', 31 (49,51) 'an', 32 (51,54) 'ce,', ..., 44 (82,85) 'n o',
45 (85,88) 'f t', 46 (88,91) 'wo ', 47 (91,93) 'mi', 48 (93,97) 'llio', 49 (97,99) 'n.', 50 (0,0) end.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from pixel.data.tasks.metrics import squad_scores
from pixel.data.tasks.qa import (
    QAExample,
    answer_patches,
    build_qa_features,
    postprocess_all,
    postprocess_qa,
    read_squad,
    span_text,
)
from pixel.render.batch import collate

from .conftest import TASK_DATA, golden_case, round_trip_answer

L = 529


@pytest.fixture(scope="module")
def squad():
    return {e.id: e for e in read_squad(TASK_DATA / "tiny_squad_v1.json").examples}


@pytest.fixture(scope="module")
def paris_encoding():
    return golden_case("pair_en_offsets")[1]


@pytest.fixture(scope="module")
def long_encoding():
    return golden_case("pair_qa_overflow")[1]  # main window + 3 overflow windows, stride 160


@pytest.mark.parametrize(
    ("example_id", "start", "end"),
    [
        ("paris-capital", 13, 14),  # "Paris" = chars 0-5 of the stripped context: 'P' + 'aris'
        ("paris-population", 45, 49),  # "two million" = 87-98: 't' is in 'f t', the '.' patch ends it
        ("paris-rank", 22, 28),  # "most populous city" = 25-43: 'mo' ... 'ity'
        ("paris-bad-offset", 30, 32),  # the valid second answer "France" = 47-53: ' Fr' 'an' 'ce,'
    ],
)
def test_training_positions_shift_for_the_stripped_leading_whitespace(
    squad, paris_encoding, example_id, start, end
):
    (feature,) = build_qa_features(squad[example_id], paris_encoding)
    assert (feature.start_position, feature.end_position) == (start, end)


def test_context_offsets_hide_question_separators_and_padding(squad, paris_encoding):
    (feature,) = build_qa_features(squad["paris-capital"], paris_encoding)
    assert feature.context_offsets[:13] == [None] * 13  # 12 question patches + separator
    assert feature.context_offsets[13] == (0, 1)
    assert feature.context_offsets[49] == (97, 99)
    assert feature.context_offsets[50:] == [None] * (L - 50)


def test_overflow_windows_mark_no_answer_with_index_L(squad, long_encoding):
    # "images" at char 1573 is only inside window 1 (chars 949-2333); window 0 ends at 1376
    positions = [
        (f.start_position, f.end_position) for f in build_qa_features(squad["pixel-late"], long_encoding)
    ]
    assert positions[0] == positions[2] == positions[3] == (L, L)
    start, end = positions[1]
    window = long_encoding.overflowing_patches[0]
    assert window.offset_mapping[start] == (1572, 1574) and window.offset_mapping[end] == (1576, 1579)


def test_answer_in_the_last_context_patch_of_the_last_window(squad, long_encoding):
    # "distribution over tokens" ends in the last context patch (3630, 3636) before the blank patch
    features = build_qa_features(squad["pixel-end"], long_encoding)
    assert [f.start_position for f in features[:3]] == [L, L, L]
    last = long_encoding.overflowing_patches[-1].offset_mapping
    assert last[features[3].end_position] == (3630, 3636)
    assert last[features[3].end_position + 1] == (-1, -1)


@pytest.mark.parametrize(
    "example_id",
    [
        "paris-capital",
        "paris-population",
        "paris-rank",
        "paris-bad-offset",
        "pixel-early",
        "pixel-late",
        "pixel-end",
    ],
)
def test_round_trip_answer_text_to_patches_to_text(squad, paris_encoding, long_encoding, example_id):
    example = squad[example_id]
    encoding = paris_encoding if example_id.startswith("paris") else long_encoding
    assert round_trip_answer(example, encoding) == example.answer_texts[0]


def test_span_text_heuristics_by_hand():
    context = (
        "Paris is the capital and most populous city of France, with an estimated population of two million."
    )
    # first patch 'f t' -> the partial word before the space is dropped; last 'n.' -> punctuation stripped
    assert span_text(context, (85, 88), (97, 99)) == "two million"
    assert span_text(context, (0, 1), (0, 1)) == "P"  # one patch: its text as is
    assert span_text("in 1990 it", (3, 5), (5, 10)) == "1990"  # 'it' after the last space may be partial
    assert span_text("in 1990 12", (3, 5), (5, 10)) == "1990 12"  # ... unless it is a number
    assert span_text("12 34 apples", (0, 4), (6, 12)) == "12 34 apples"


def _logits(num_features: int = 1) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((num_features, L + 1)), np.zeros((num_features, L + 1))


def test_postprocess_best_span(squad, paris_encoding):
    example = squad["paris-population"]
    features = build_qa_features(example, paris_encoding)
    start, end = _logits()
    start[0, 45], end[0, 49] = 5.0, 5.0
    start[0, 3] = end[0, 5] = 20.0  # question patches can never be the answer
    end[0, 30] = 7.0  # ends before the best start: only pairs with start 13..30 (score <= 7) remain
    prediction = postprocess_qa(example, features, start, end)
    assert prediction.text == "two million"
    assert prediction.nbest[0]["text"] == "two million"
    assert prediction.probability == pytest.approx(prediction.nbest[0]["probability"])
    assert sum(c["probability"] for c in prediction.nbest) == pytest.approx(1.0)
    assert len(prediction.nbest) <= 20


def test_postprocess_max_answer_length_in_patches(squad, paris_encoding):
    example = squad["paris-population"]
    features = build_qa_features(example, paris_encoding)
    start, end = _logits()
    start[0, 13], end[0, 49] = 9.0, 9.0  # patches 13-49 = 37 patches: longer than 30
    start[0, 40] = 2.0  # 40-49 (10 patches, score 11) beats 13 + any end (score 9)
    assert postprocess_qa(example, features, start, end).text == "population of two million"
    assert postprocess_qa(example, features, start, end, max_answer_length=40).text.startswith("Paris is")


def test_postprocess_version_2_null_threshold(squad, paris_encoding):
    example = squad["paris-capital"]
    features = build_qa_features(example, paris_encoding)
    start, end = _logits()
    start[0, 13], end[0, 14] = 5.0, 5.0  # best span "Paris", score 10
    start[0, L], end[0, L] = 8.0, 8.0  # null score 16
    no_answer = postprocess_qa(example, features, start, end, version_2_with_negative=True)
    assert no_answer.text == "" and no_answer.null_score_diff == pytest.approx(6.0)
    answered = postprocess_qa(
        example, features, start, end, version_2_with_negative=True, null_score_diff_threshold=7.0
    )
    assert answered.text == "Paris"
    assert postprocess_qa(example, features, start, end).text == "Paris"  # v1 ignores the null score


def test_postprocess_across_overflow_windows(squad, long_encoding):
    example = squad["pixel-late"]
    features = build_qa_features(example, long_encoding)
    start, end = _logits(len(features))
    start[1, 245], end[1, 247] = 4.0, 4.0
    start[0, 100], end[0, 101] = 1.0, 1.0
    start[:, L] = end[:, L] = [3.0, 9.0, 9.0, 9.0]  # null = minimum over windows = 6 < 8
    prediction = postprocess_qa(example, features, start, end, version_2_with_negative=True)
    assert prediction.text == "images"
    assert squad_scores({example.id: prediction.text}, {example.id: example.answer_texts}) == {
        "exact_match": 100.0,
        "f1": 100.0,
    }


def test_postprocess_shape_errors(squad, paris_encoding):
    example = squad["paris-capital"]
    features = build_qa_features(example, paris_encoding)
    with pytest.raises(ValueError, match=r"must both be \[1 features, L\+1\]"):
        postprocess_qa(example, features, np.zeros((2, L + 1)), np.zeros((2, L + 1)))
    with pytest.raises(ValueError, match="expected L\\+1 = 530"):
        postprocess_qa(example, features, np.zeros((1, L)), np.zeros((1, L)))


def test_unanswerable_example_targets_cls(paris_encoding):
    example = QAExample("x", "What is the capital of Peru?", "Paris is the capital")
    (feature,) = build_qa_features(example, paris_encoding)
    assert (feature.start_position, feature.end_position) == (L, L)


def test_answer_patches_needs_a_pair_mapping():
    with pytest.raises(ValueError, match="no \\(0, 0\\) separator"):
        answer_patches([(0, 1), (1, 2)], 0, 1)


def test_qa_features_collate_to_a_batch(squad, long_encoding):
    features = build_qa_features(squad["pixel-late"], long_encoding)
    batch = collate([f.as_dict() for f in features])
    assert batch["pixel_values"].shape == (4, 16, 16 * L)
    assert batch["attention_mask"].sum(dim=1).tolist() == [529.0, 529.0, 529.0, 308.0]
    assert batch["start_positions"].tolist()[0] == L


@pytest.mark.parametrize(
    ("answer", "image_span"),
    [
        # pair_he context 'אני בסדר גמור, תודה רבה לך.': right-to-left, so image patch 6 holds the END of the
        # text, (27, 25) 'ך.', and patch 16 its start, (2, 0) 'אנ'; 15 is (5, 2) 'י ב'.
        ("אני", (15, 16)),  # chars 0-3: ends in 'י ב' (15), starts in 'אנ' (16)
        ("לך", (6, 7)),  # chars 24-26: ' ל' (7) and 'ך.' (6)
        ("בסדר גמור", (12, 15)),
    ],
)
def test_right_to_left_window_targets_and_round_trip(answer, image_span):
    (question, context), encoding = golden_case("pair_he")
    example = QAExample("he", question, context, [answer], [context.index(answer)])
    (feature,) = build_qa_features(example, encoding)
    assert (feature.start_position, feature.end_position) == image_span
    assert round_trip_answer(example, encoding) == answer
    start, end = _logits()
    start[0, image_span[0]], end[0, image_span[1]] = 5.0, 5.0
    assert postprocess_qa(example, [feature], start, end).text == answer


def test_postprocess_all_groups_features_by_example(squad, paris_encoding, long_encoding):
    examples = [squad["paris-capital"], squad["pixel-late"]]
    features = build_qa_features(examples[0], paris_encoding) + build_qa_features(examples[1], long_encoding)
    start, end = _logits(len(features))  # row 0: Paris window; rows 1-4: the four PIXEL windows
    start[0, 13], end[0, 14] = 5.0, 5.0
    start[2, 245], end[2, 247] = 5.0, 5.0
    predictions = postprocess_all(examples, features, start, end, version_2_with_negative=False)
    assert {key: p.text for key, p in predictions.items()} == {
        "paris-capital": "Paris",
        "pixel-late": "images",
    }
    with pytest.raises(ValueError, match="has no feature"):
        postprocess_all([squad["paris-rank"]], features, start, end)
    with pytest.raises(ValueError, match="4 logit rows for 5 features"):
        postprocess_all(examples, features, start[:4], end[:4])


def test_postprocess_rejects_nan_logits(squad, paris_encoding):
    example = squad["paris-capital"]
    features = build_qa_features(example, paris_encoding)
    start, end = _logits()
    start[0, 20] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        postprocess_qa(example, features, start, end)


def test_no_usable_questions_says_how_many_and_why(tmp_path):
    # It said "no usable questions" without the counts and reasons that read_squad's docs promise.
    from pixel.data.tasks.qa import read_squad
    from pixel.data.tasks.reading import DataFormatError

    records = [{"id": str(i), "question": "Who?", "context": "Ada wrote it.",
                "answers": {"text": ["Ada"], "answer_start": [5]}} for i in range(2)]
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    with pytest.raises(DataFormatError, match=r"no usable questions: 2 read, 2 dropped because none of their answers "
                                              r"appears in the context at its answer_start \(2 answers skipped so\)"):
        read_squad(path)
    (tmp_path / "empty.json").write_text('{"data": []}')
    with pytest.raises(DataFormatError, match="no usable questions: the file holds no question"):
        read_squad(tmp_path / "empty.json")
