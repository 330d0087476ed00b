"""Metrics against values worked out by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pixel.data.tasks import metrics as m


def test_accuracy_and_f1_by_hand():
    preds, golds = [1, 1, 0, 0, 1], [1, 0, 0, 1, 1]
    assert m.accuracy(preds, golds) == pytest.approx(3 / 5)
    # positive class 1: TP 2, predicted 3, actual 3 -> P = R = 2/3 -> F1 2/3
    assert m.f1_binary(preds, golds) == pytest.approx(2 / 3)
    # class 0: TP 1, predicted 2, actual 2 -> F1 1/2; macro = (1/2 + 2/3) / 2
    assert m.f1_macro(preds, golds) == pytest.approx((0.5 + 2 / 3) / 2)
    assert m.f1_binary(["no", "no"], ["yes", "no"], positive="yes") == 0.0


def test_matthews_by_hand():
    preds, golds = [1, 1, 0, 0, 1], [1, 0, 0, 1, 1]
    # TP 2, TN 1, FP 1, FN 1: (2*1 - 1*1) / sqrt(3 * 3 * 2 * 2) = 1/6
    assert m.matthews_corrcoef(preds, golds) == pytest.approx(1 / 6)
    assert m.matthews_corrcoef([0, 1, 2, 0], [0, 1, 2, 0]) == pytest.approx(1.0)
    assert m.matthews_corrcoef([1, 0, 1], [0, 1, 0]) == pytest.approx(-1.0)
    assert m.matthews_corrcoef([1, 1, 1], [0, 1, 0]) == 0.0  # constant prediction


def test_matthews_multiclass_by_hand():
    # confusion (rows gold, cols pred) [[2,1,0],[0,1,1],[0,0,1]]: c=4, s=6, t=(3,2,1), p=(2,2,2)
    # (c*s - p.t) / sqrt((s^2 - p.p)(s^2 - t.t)) = (24 - 12) / sqrt((36 - 12)(36 - 14)) = 12 / sqrt(528)
    golds = [0, 0, 0, 1, 1, 2]
    preds = [0, 0, 1, 1, 2, 2]
    assert m.matthews_corrcoef(preds, golds) == pytest.approx(12 / math.sqrt(528))


def test_pearson_and_spearman_by_hand():
    # x - mean = (-1, 0, 1); y - mean = (-7/3, -1/3, 8/3); sum xy = 5; sum x^2 = 2; sum y^2 = 38/3
    assert m.pearson([1, 2, 3], [2, 4, 7]) == pytest.approx(5 / math.sqrt(2 * 38 / 3))
    # ranks with a tie: x -> (1, 2.5, 2.5, 4), y -> (1, 3, 2, 4): 4.5 / sqrt(4.5 * 5)
    assert m.spearman([1, 2, 2, 3], [1, 3, 2, 4]) == pytest.approx(4.5 / math.sqrt(4.5 * 5))
    assert m.spearman([1, 2, 3, 4], [1, 8, 27, 64]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="constant"):
        m.pearson([1, 1, 1], [1, 2, 3])


def test_entity_scores_by_hand():
    golds = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    preds = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "I-ORG"]]
    # gold: PER(0-1), LOC(3), ORG(0) ; predicted: PER(0-1), ORG(3), ORG(0-1) ; only PER matches
    scores = m.entity_scores(preds, golds)
    assert scores["precision"] == pytest.approx(1 / 3)
    assert scores["recall"] == pytest.approx(1 / 3)
    assert scores["f1"] == pytest.approx(1 / 3)
    assert scores["per_type"]["PER"]["f1"] == 1.0
    assert scores["per_type"]["LOC"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1.0}
    assert scores["per_type"]["ORG"]["precision"] == 0.0


def test_entity_chunking_rules():
    # An I- tag without a B- starts an entity (conlleval / seqeval default mode); a type change splits.
    assert m.entities(["I-PER", "I-PER", "O"]) == [("PER", 0, 1)]
    assert m.entities(["B-PER", "I-LOC"]) == [("PER", 0, 0), ("LOC", 1, 1)]
    assert m.entities(["B-PER", "B-PER", "I-PER"]) == [("PER", 0, 0), ("PER", 1, 2)]
    assert m.entities(["B-geo-loc", "I-geo-loc"]) == [("geo-loc", 0, 1)]
    assert m.entities(["O", "O"]) == []


def test_entity_scores_match_seqeval_when_installed():
    seqeval_metrics = pytest.importorskip("seqeval.metrics")
    golds = [["B-PER", "I-PER", "O", "B-LOC", "I-LOC"], ["I-ORG", "O", "B-MISC"], ["O", "B-PER"]]
    preds = [["B-PER", "O", "O", "B-LOC", "I-LOC"], ["B-ORG", "O", "I-MISC"], ["B-PER", "I-PER"]]
    ours = m.entity_scores(preds, golds)
    assert ours["precision"] == pytest.approx(seqeval_metrics.precision_score(golds, preds))
    assert ours["recall"] == pytest.approx(seqeval_metrics.recall_score(golds, preds))
    assert ours["f1"] == pytest.approx(seqeval_metrics.f1_score(golds, preds))


def test_attachment_scores_by_hand():
    scores = m.attachment_scores(
        predicted_heads=[2, 0, 2, 3],
        predicted_relations=["det", "root", "obj", "nmod"],
        gold_heads=[2, 0, 1, 3],
        gold_relations=["det", "root", "obj", "amod"],
    )
    # heads right for words 1, 2, 4 -> UAS 3/4; word 4 has the wrong relation -> LAS 2/4
    assert scores == {"uas": 0.75, "las": 0.5}


def test_squad_normalisation_and_scores_by_hand():
    assert m.normalize_answer("The  Cat's, hat!") == "cats hat"
    assert m.normalize_answer("An apple and a pear") == "apple and pear"
    assert m.squad_exact_match("the Eiffel Tower.", "Eiffel tower") == 1.0
    # prediction tokens (cat, sat), gold (cat, sat, down): P 1, R 2/3 -> F1 0.8
    assert m.squad_f1("the cat sat", "a cat sat down") == pytest.approx(0.8)
    assert m.squad_f1("dog", "cat") == 0.0
    scores = m.squad_scores(
        {"q1": "Paris", "q2": "two millions", "q3": "", "q4": "something"},
        {"q1": ["paris", "Paris, France"], "q2": ["two million"], "q3": [], "q4": []},
    )
    # q1 EM 1 F1 1; q2 EM 0, F1: tokens (two, millions) vs (two, million) -> 0.5; q3 right (empty); q4 wrong
    assert scores["exact_match"] == pytest.approx(100 * 2 / 4)
    assert scores["f1"] == pytest.approx(100 * (1 + 0.5 + 1 + 0) / 4)


def test_metric_input_errors():
    with pytest.raises(ValueError, match="2 predictions but 3 references"):
        m.accuracy([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="empty"):
        m.accuracy([], [])
    with pytest.raises(ValueError, match="sentence 0"):
        m.entity_scores([["O"]], [["O", "O"]])
    with pytest.raises(ValueError, match="no prediction"):
        m.squad_scores({}, {"q": ["a"]})


def test_parsing_scores_from_logits_by_hand():
    # one sentence, L = 3 patches/words slots, 2 real words, R = 2 relations
    arc = np.zeros((1, 3, 4))
    arc[0, 0, 2] = 1.0  # word 1 -> head 2 (gold 2)
    arc[0, 1, 1] = 1.0  # word 2 -> head 1 (gold 0): wrong
    arc[0, 2, 3] = 9.0  # padding slot: must be ignored
    rel = np.zeros((1, 3, 4, 2))
    rel[0, 0, 2, 1] = 1.0  # at word 1's gold head: relation 1 (gold 1) -> right
    rel[0, 0, 0, 0] = 5.0  # elsewhere: irrelevant
    rel[0, 1, 0, 1] = 1.0  # word 2 at its gold head (root): relation 1 (gold 1), but the head is wrong
    scores = m.parsing_scores_from_logits(arc, rel, np.array([[2, 0, -100]]), np.array([[1, 1, -100]]))
    assert scores == {"uas": 0.5, "las": 0.5}
    with pytest.raises(ValueError, match="expected arc_logits"):
        m.parsing_scores_from_logits(arc[0], rel, np.array([[2, 0, -100]]), np.array([[1, 1, -100]]))
