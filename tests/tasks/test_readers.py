"""Readers of every task format: what they return, and clear errors (file and line) for bad input."""

from __future__ import annotations

import json

import pytest

from pixel.data.tasks.classification import (
    ClassificationExample,
    encode_labels,
    glue_strip_spaces,
    label_vocabulary,
    read_classification,
)
from pixel.data.tasks.conllu import read_conllu
from pixel.data.tasks.labels import IGNORE_INDEX
from pixel.data.tasks.ner import read_conll_ner
from pixel.data.tasks.qa import read_squad
from pixel.data.tasks.reading import DataFormatError

from .conftest import TASK_DATA


def test_glue_strip_spaces_replacement_order():
    text = "it 's a ( very ) good film , is n't it ? [ sic ] say \" hi \" / # 1 !"
    assert glue_strip_spaces(text) == "it's a (very) good film, isn't it? [sic] say\"hi\"/# 1!"
    # sequential replacements: " '" first, then "' " -> both spaces go
    assert glue_strip_spaces("a ' b") == "a'b"
    assert glue_strip_spaces("end .") == "end."


def test_tsv_single_sentence_with_strip_spaces():
    examples = read_classification(TASK_DATA / "sst2.tsv", strip_spaces=True)
    assert [e.label for e in examples] == ["1", "0", "0"]
    assert examples[0].text == "it's a charming and often affecting journey."
    assert examples[2].text == "the film doesn't work (at all)."
    assert examples[0].renderer_input() == "it's a charming and often affecting journey."


def test_csv_pairs_keep_quoted_commas():
    examples = read_classification(TASK_DATA / "pairs.csv", text_column="sentence1", pair_column="sentence2")
    assert examples[0].text == 'He said, "hello" .'
    assert examples[0].renderer_input() == ('He said, "hello" .', "He greeted them .")
    assert [e.label for e in examples] == ["equivalent", "not_equivalent", "equivalent"]


def test_jsonl_regression_labels_are_floats():
    examples = read_classification(
        TASK_DATA / "stsb.jsonl",
        text_column="sentence1",
        pair_column="sentence2",
        label_column="score",
        regression=True,
    )
    assert [e.label for e in examples] == [4.8, 0.2, 3.5]


def test_unlabelled_reading_for_prediction():
    examples = read_classification(TASK_DATA / "sst2.tsv", label_column=None)
    assert all(e.label is None for e in examples)


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("empty.csv", {}, r"empty\.csv: the file is empty"),
        ("header_only.csv", {}, "only a header line"),
        ("ragged.csv", {}, r"ragged\.csv:3: 3 fields but the header has 2"),
        ("broken.jsonl", {}, r"broken\.jsonl:2: invalid JSON line"),
        ("bad_score.jsonl", {"text_column": "sentence1", "label_column": "score", "regression": True},
         r"bad_score\.jsonl:1: regression label 'high' is not a number"),
        ("sst2.tsv", {"text_column": "text"}, r"missing column\(s\) text; the file has sentence, label"),
        ("sst2.tsv", {"pair_column": "hypothesis"}, r"missing column\(s\) hypothesis"),
    ],
)  # fmt: skip
def test_classification_bad_input(name, kwargs, message):
    with pytest.raises(DataFormatError, match=message):
        read_classification(TASK_DATA / name, **kwargs)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_classification(tmp_path / "nope.csv")
    (tmp_path / "data.xlsx").write_text("x")
    with pytest.raises(DataFormatError, match="unknown file type"):
        read_classification(tmp_path / "data.xlsx")


def test_non_utf8_file_names_the_line(tmp_path):
    path = tmp_path / "latin1.tsv"
    path.write_bytes("sentence\tlabel\nok\t1\ncaf\xe9\t0\n".encode("latin-1"))
    with pytest.raises(DataFormatError, match=r"latin1\.tsv:3: not valid UTF-8"):
        read_classification(path)


def test_conllu_skips_multiword_and_empty_nodes_and_cuts_relations():
    sentences = read_conllu(TASK_DATA / "tiny.conllu")
    assert len(sentences) == 3
    first, second, third = sentences
    assert first.words == ["The", "cat", "sleeps", "."]
    assert first.upos == ["DET", "NOUN", "VERB", "PUNCT"]
    assert first.heads == [2, 3, 0, 3]
    assert first.sent_id == "s1"
    assert second.words == ["Do", "n't", "go", "."]  # "1-2 Don't" and "3.1 went" skipped
    assert second.heads == [3, 3, 0, 3]
    assert third.relations == ["nsubj", "root"]  # nsubj:pass cut at ':'
    assert third.renderer_input() == ["Ducks", "swim"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("bad_columns.conllu", r"bad_columns\.conllu:4: expected 10 tab-separated columns, found 9"),
        ("bad_head.conllu", r"bad_head\.conllu:5: HEAD 'x' is not a word number"),
        ("bad_id.conllu", r"bad_id\.conllu:5: word ID '5' where 3 was expected"),
    ],
)
def test_conllu_bad_lines_name_file_and_line(name, message):
    with pytest.raises(DataFormatError, match=message):
        read_conllu(TASK_DATA / name)


def test_conllu_head_past_sentence_end(tmp_path):
    path = tmp_path / "x.conllu"
    path.write_text("1\tA\ta\tDET\t_\t_\t2\tdet\t_\t_\n2\tb\tb\tNOUN\t_\t_\t7\troot\t_\t_\n")
    with pytest.raises(DataFormatError, match=r"x\.conllu:2: HEAD 7 points past the last word \(2\)"):
        read_conllu(path)


def test_conll_ner_sentences_docstart_whitespace_lines_and_four_columns():
    sentences = read_conll_ner(TASK_DATA / "tiny_ner.txt")
    assert [s.words for s in sentences] == [
        ["EU", "rejects", "German", "call", "."],
        ["Peter", "Blackburn"],
        ["John", "lives", "in", "New", "York"],
    ]
    assert sentences[0].labels == ["B-ORG", "O", "B-MISC", "O", "O"]
    assert sentences[2].labels == ["B-PER", "O", "O", "B-LOC", "I-LOC"]  # label = last column


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("bad_ner_columns.txt", r"bad_ner_columns\.txt:2: expected 'word label' \(two columns\), found 1"),
        ("bad_ner_label.txt", r"bad_ner_label\.txt:3: label 'MISC' is not BIO/IOB2"),
    ],
)
def test_conll_ner_bad_lines(name, message):
    with pytest.raises(DataFormatError, match=message):
        read_conll_ner(TASK_DATA / name)


def test_squad_v1_counts_answers_not_in_context():
    data = read_squad(TASK_DATA / "tiny_squad_v1.json")
    ids = [e.id for e in data.examples]
    assert "paris-not-in-context" not in ids  # its only answer is not in the context: dropped, counted
    assert data.skipped_questions == 1
    assert data.skipped_answers == 2  # "Paris" at 7 (wrong offset) and "Napoleon"
    bad_offset = next(e for e in data.examples if e.id == "paris-bad-offset")
    assert bad_offset.answer_texts == ["France"]
    capital = next(e for e in data.examples if e.id == "paris-capital")
    assert capital.context_shift == 2 and capital.answer_starts == [2, 2]
    assert capital.renderer_input()[1].startswith("Paris is the capital")


def test_squad_v2_keeps_unanswerable_questions():
    data = read_squad(TASK_DATA / "tiny_squad_v2.json")
    impossible = next(e for e in data.examples if e.id == "v2-impossible")
    assert impossible.answer_texts == [] and data.skipped_questions == 0


def test_flat_hugging_face_layout():
    data = read_squad(TASK_DATA / "tiny_qa_flat.jsonl")
    assert [e.answer_texts for e in data.examples] == [["Paris"], ["two million"]]


def test_squad_bad_structure(tmp_path):
    with pytest.raises(DataFormatError, match=r"data\[0\]\.paragraphs\[0\] has no 'context'"):
        read_squad(TASK_DATA / "bad_squad.json")
    path = tmp_path / "dup.jsonl"
    line = '{"id": "a", "question": "q", "context": "c", "answers": {"text": [], "answer_start": []}}\n'
    path.write_text(line * 2)
    with pytest.raises(DataFormatError, match="appears twice"):
        read_squad(path)


def test_squad_layouts_are_told_apart(tmp_path):
    record = {
        "id": "a",
        "question": "q?",
        "context": "ctx",
        "answers": {"text": ["ctx"], "answer_start": [0]},
    }
    array = tmp_path / "array.json"
    array.write_text(json.dumps([record]))
    assert read_squad(array).examples[0].answer_texts == ["ctx"]
    compact = tmp_path / "compact.json"  # a whole SQuAD file on one line
    compact.write_text(
        '{"data": [{"paragraphs": [{"context": "ctx", "qas": [{"id": "b", "question": "q", '
        '"answers": [{"text": "ctx", "answer_start": 0}]}]}]}]}'
    )
    assert read_squad(compact).examples[0].id == "b"
    broken = tmp_path / "broken.json"
    broken.write_text('{\n "data": [\n  {"paragraphs": [}\n ]\n}\n')
    with pytest.raises(DataFormatError, match=r"broken\.json:3: invalid JSON"):
        read_squad(broken)
    lines = tmp_path / "lines.jsonl"
    lines.write_text(json.dumps(record) + "\n{oops\n")
    with pytest.raises(DataFormatError, match=r"lines\.jsonl:2: invalid JSON line"):
        read_squad(lines)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"data": [{"title": "no paragraphs"}]}', r"data\[0\] needs a 'paragraphs' list"),
        ('{"data": [{"paragraphs": [{"context": "c", "qas": [{"id": "a", "answers": ["c"]}]}]}]}', "needs 'answers'"),
        ('{"id": "a", "question": "q", "context": "c", "answers": {"text": "c", "answer_start": 0}}', "must be lists"),
        ('{"id": "a", "question": "q", "context": "c", "answers": {"text": ["c", "d"], "answer_start": [0]}}',
         "2 answer texts but 1 answer starts"),
        ('{"id": "a", "question": 5, "context": "c", "answers": {"text": [], "answer_start": []}}',
         "missing or non-text 'question'"),
    ],
)  # fmt: skip
def test_squad_malformed_records(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(DataFormatError, match=message):
        read_squad(path)


def test_classification_label_vocabulary_and_unseen_labels():
    train = read_classification(TASK_DATA / "pairs.csv", text_column="sentence1", pair_column="sentence2")
    vocabulary = label_vocabulary(train)
    assert vocabulary.labels == ["equivalent", "not_equivalent"]
    validation = [ClassificationExample("x", label="equivalent"), ClassificationExample("y", label="maybe")]
    ids, unseen = encode_labels(validation, vocabulary)
    assert ids == [0, IGNORE_INDEX] and unseen == {"maybe": 1}
    scores = read_classification(
        TASK_DATA / "stsb.jsonl", text_column="sentence1", label_column="score", regression=True
    )
    assert label_vocabulary(scores) is None
    assert encode_labels(scores, None) == ([4.8, 0.2, 3.5], {})


def test_unicode_line_separators_inside_tokens_do_not_split_lines(tmp_path):
    conllu = tmp_path / "u2028.conllu"
    conllu.write_text(
        "1\ta\u2028b\t_\tX\t_\t_\t0\troot\t_\t_\r\n2\tc\x85\t_\tX\t_\t_\t1\tdep\t_\t_\r\n", newline=""
    )
    (sentence,) = read_conllu(conllu)
    assert sentence.words == ["a\u2028b", "c\x85"]
    jsonl = tmp_path / "u2028.jsonl"
    jsonl.write_text('{"sentence": "one\u2028two", "label": 1}\n{"sentence": "three", "label": 0}\n')
    assert [e.text for e in read_classification(jsonl)] == ["one\u2028two", "three"]
