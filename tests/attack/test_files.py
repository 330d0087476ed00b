"""Attacked copies of task files keep their format, labels and word alignment (pixel.attack.files)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pixel.attack import ATTACKS, attack_file
from pixel.data.tasks.classification import read_classification, read_records
from pixel.data.tasks.conllu import read_conllu
from pixel.data.tasks.ner import read_conll_ner
from pixel.data.tasks.qa import read_squad
from pixel.data.tasks.reading import DataFormatError

TASK_DATA = Path(__file__).resolve().parents[1] / "data" / "tasks"

ALL = sorted(ATTACKS)


@pytest.mark.parametrize("name", ALL)
def test_conllu_copy_keeps_every_column_but_form(name, tmp_path):
    source = TASK_DATA / "tiny.conllu"
    target = tmp_path / "out.conllu"
    summary = attack_file(source, target, name, 1.0, seed=5)
    clean, attacked = read_conllu(source), read_conllu(target)
    assert len(attacked) == len(clean) == summary.examples
    for before, after in zip(clean, attacked, strict=True):
        assert len(after.words) == len(before.words)
        assert (after.upos, after.heads, after.relations, after.sent_id) == \
            (before.upos, before.heads, before.relations, before.sent_id)
    lines_before = source.read_text().splitlines()
    lines_after = target.read_text().splitlines()
    for old, new in zip(lines_before, lines_after, strict=True):
        if not old.split("\t")[0].isdigit():
            assert new == old  # comments, multiword tokens, empty nodes, blank lines
        else:
            assert old.split("\t")[2:] == new.split("\t")[2:]
    assert summary.words == 8 and 0 < summary.changed <= 8


@pytest.mark.parametrize("name", ALL)
def test_severity_zero_copies_are_the_input(name, tmp_path):
    for fixture in ("tiny.conllu", "tiny_ner.txt", "sst2.tsv"):
        target = tmp_path / fixture
        attack_file(TASK_DATA / fixture, target, name, 0.0)
        assert target.read_text() == (TASK_DATA / fixture).read_text()
    attack_file(TASK_DATA / "pairs.csv", tmp_path / "pairs.csv", name, 0.0, text_columns=["sentence1", "sentence2"])
    assert read_records(tmp_path / "pairs.csv") == read_records(TASK_DATA / "pairs.csv")
    attack_file(TASK_DATA / "tiny_squad_v1.json", tmp_path / "squad.json", name, 0.0)
    clean, copy = read_squad(TASK_DATA / "tiny_squad_v1.json"), read_squad(tmp_path / "squad.json")
    assert copy.examples == clean.examples


@pytest.mark.parametrize("name", ALL)
def test_ner_copy_keeps_one_label_per_word(name, tmp_path):
    source = TASK_DATA / "tiny_ner.txt"
    target = tmp_path / "out.txt"
    attack_file(source, target, name, 1.0, seed=2)
    clean, attacked = read_conll_ner(source), read_conll_ner(target)
    assert [s.labels for s in attacked] == [s.labels for s in clean]
    assert [len(s.words) for s in attacked] == [len(s.words) for s in clean]


def test_ner_segmentation_split_words_survive_the_reader(tmp_path):
    target = tmp_path / "out.txt"
    attack_file(TASK_DATA / "tiny_ner.txt", target, "segmentation", 1.0)
    words = [w for s in read_conll_ner(target) for w in s.words]
    clean = [w for s in read_conll_ner(TASK_DATA / "tiny_ner.txt") for w in s.words]
    assert [w.replace(" ", "") for w in words] == clean
    assert sum(" " in w for w in words) == sum(len(w) > 1 for w in clean)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("fixture, columns", [("pairs.csv", ["sentence1", "sentence2"]), ("sst2.tsv", ["sentence"]),
                                              ("stsb.jsonl", ["sentence1", "sentence2"])])
def test_classification_copy_attacks_the_text_columns_only(name, fixture, columns, tmp_path):
    target = tmp_path / fixture
    summary = attack_file(TASK_DATA / fixture, target, name, 1.0, text_columns=columns)
    header, rows = read_records(TASK_DATA / fixture)
    new_header, new_rows = read_records(target)
    assert new_header == header and len(new_rows) == len(rows) == summary.examples
    for (_, old), (_, new) in zip(rows, new_rows, strict=True):
        assert {k: v for k, v in new.items() if k not in columns} == {k: v for k, v in old.items() if k not in columns}
    changed = sum(new[c] != old[c] for (_, old), (_, new) in zip(rows, new_rows, strict=True) for c in columns)
    assert changed > 0


def test_classification_pairs_read_back_with_labels(tmp_path):
    target = tmp_path / "pairs.csv"
    attack_file(TASK_DATA / "pairs.csv", target, "confusable", 1.0, text_columns=["sentence1", "sentence2"])
    options = {"text_column": "sentence1", "pair_column": "sentence2"}
    clean = read_classification(TASK_DATA / "pairs.csv", **options)
    attacked = read_classification(target, **options)
    assert [e.label for e in attacked] == [e.label for e in clean]
    assert all(a.text != c.text and a.pair != c.pair for a, c in zip(attacked, clean, strict=True))


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("fixture", ["tiny_squad_v1.json", "tiny_squad_v2.json", "tiny_qa_flat.jsonl"])
def test_qa_answers_are_moved_or_dropped_and_counted(name, fixture, tmp_path):
    source = TASK_DATA / fixture
    target = tmp_path / fixture
    summary = attack_file(source, target, name, 0.5, seed=11)
    clean, attacked = read_squad(source), read_squad(target)
    assert attacked.skipped_answers == 0 and attacked.skipped_questions == 0  # every written answer is valid
    assert len(attacked.examples) == summary.examples
    assert len(attacked.examples) + summary.dropped_questions == len(clean.examples) + clean.skipped_questions
    answers_before = sum(len(e.answer_texts) for e in clean.examples) + clean.skipped_answers
    answers_after = sum(len(e.answer_texts) for e in attacked.examples)
    assert answers_after + summary.removed_answers == answers_before


def test_qa_answer_is_the_attacked_text_at_its_new_place(tmp_path):
    target = tmp_path / "flat.jsonl"
    attack_file(TASK_DATA / "tiny_qa_flat.jsonl", target, "truncate", 1.0)
    examples = read_squad(target).examples
    context = "Pari is the capita and mos populou cit of Franc, wit an estimate populatio of two millio."
    assert [e.context for e in examples] == [context, context]  # shared contexts stay identical
    assert (examples[0].answer_texts, examples[0].answer_starts) == (["Pari"], [0])
    assert (examples[1].answer_texts, examples[1].answer_starts) == (["two millio"], [context.index("two millio")])


def test_qa_answer_inside_a_changed_word_drops_the_question(tmp_path):
    source = tmp_path / "squad.json"
    paragraph = {"context": "The 1990s were loud.", "qas": [
        {"id": "decade", "question": "When?", "answers": [{"text": "1990", "answer_start": 4}]},
        {"id": "whole", "question": "When exactly?", "answers": [{"text": "1990s", "answer_start": 4}]},
        {"id": "none", "question": "Who?", "answers": [], "is_impossible": True}]}
    source.write_text(json.dumps({"version": "v2.0", "data": [{"title": "t", "paragraphs": [paragraph]}]}))
    summary = attack_file(source, tmp_path / "out.json", "truncate", 1.0)
    assert (summary.removed_answers, summary.dropped_questions, summary.examples) == (1, 1, 2)
    kept = read_squad(tmp_path / "out.json").examples
    assert [(e.id, e.answer_texts) for e in kept] == [("whole", ["1990"]), ("none", [])]
    assert "1 questions dropped" in summary.describe()


def test_same_seed_same_bytes(tmp_path):
    for seed, name in ((1, "a.json"), (1, "b.json"), (2, "c.json")):
        attack_file(TASK_DATA / "tiny_squad_v1.json", tmp_path / name, "keyboard-typo", 0.5, seed=seed)
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert (tmp_path / "a.json").read_bytes() != (tmp_path / "c.json").read_bytes()


def test_bad_requests_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="would overwrite its input"):
        attack_file(TASK_DATA / "tiny.conllu", TASK_DATA / "tiny.conllu", "truncate", 0.5)
    with pytest.raises(ValueError, match="unknown format 'xml'; choose one of conllu, ner, classification, qa"):
        attack_file(TASK_DATA / "tiny.conllu", tmp_path / "x", "truncate", 0.5, format="xml")
    with pytest.raises(DataFormatError, match="no column text to attack; the file has sentence1, sentence2, label"):
        attack_file(TASK_DATA / "pairs.csv", tmp_path / "x.csv", "truncate", 0.5, text_columns=["text"])
    with pytest.raises(DataFormatError, match="bad_columns.conllu:.*10 tab-separated columns"):
        attack_file(TASK_DATA / "bad_columns.conllu", tmp_path / "x.conllu", "truncate", 0.5)
    with pytest.raises(ValueError, match="unknown attack"):
        attack_file(TASK_DATA / "tiny.conllu", tmp_path / "x.conllu", "typo", 0.5)
    assert not (tmp_path / "x.conllu").exists()
