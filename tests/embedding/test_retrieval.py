"""Retrieval over parallel texts and the PCA scatter (issue 14, item 3): metrics on cases whose answer is
known by construction, the command on the parallel fixture."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from pixel.embedding.retrieval import answer_ranks, chance_scores, retrieval_scores
from pixel.embedding.scatter import pca_2d, scatter_figure

PARALLEL = Path(__file__).resolve().parents[1] / "data" / "embed"


def test_ranks_of_a_written_out_similarity_matrix():
    similarities = np.array([[0.9, 0.1, 0.2],    # answer first: rank 1
                             [0.8, 0.5, 0.6],    # two candidates above the answer: rank 3
                             [0.3, 0.7, 0.7]])   # a tie with the answer counts against it: rank 2
    assert answer_ranks(similarities).tolist() == [1, 3, 2]


def test_a_swapped_pair_costs_what_it_should():
    """Six orthonormal queries; candidates are the queries, except that the answers of queries 1 and 4 are
    swapped and tilted towards their own query by a small angle: queries 1 and 4 find the other's answer
    first (cosine cos 0.1) and their own second (sin 0.1), the others find their own. Top-1 4/6, MRR
    (4 + 1/2 + 1/2) / 6 = 5/6."""
    queries = np.linalg.qr(np.random.default_rng(0).normal(size=(16, 6)))[0].T  # [6, 16], orthonormal rows
    candidates = queries.copy()
    angle = 0.1
    candidates[1] = np.cos(angle) * queries[4] + np.sin(angle) * queries[1]
    candidates[4] = np.cos(angle) * queries[1] + np.sin(angle) * queries[4]
    scores = retrieval_scores(queries, candidates)
    assert scores.ranks.tolist() == [1, 2, 1, 1, 2, 1]
    assert scores.top1 == pytest.approx(4 / 6) and scores.mrr == pytest.approx(5 / 6)
    identical = retrieval_scores(queries, queries * 3.0)  # cosine: the length does not matter
    assert identical.top1 == 1.0 and identical.mrr == 1.0


def test_a_model_that_says_the_same_for_everything_ranks_every_answer_last():
    scores = retrieval_scores(np.ones((5, 4)), np.ones((5, 4)))
    assert scores.ranks.tolist() == [5] * 5 and scores.top1 == 0.0 and scores.mrr == pytest.approx(0.2)


def test_chance_and_bad_inputs():
    assert chance_scores(4) == (0.25, pytest.approx((1 + 1 / 2 + 1 / 3 + 1 / 4) / 4))
    with pytest.raises(ValueError, match="as many queries as candidates"):
        retrieval_scores(np.ones((3, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="NaN or infinite"):
        retrieval_scores(np.full((2, 2), np.nan), np.ones((2, 2)))


def test_pca_of_points_on_a_line_and_in_a_plane():
    rng = np.random.default_rng(1)
    direction = rng.normal(size=8)
    line = np.outer(np.arange(10.0), direction) + 5.0
    points, share = pca_2d(line)
    assert share[0] == pytest.approx(1.0) and abs(share[1]) < 1e-12
    # Distances along the line are kept, the second axis carries nothing.
    np.testing.assert_allclose(np.abs(np.diff(points[:, 0])), np.linalg.norm(direction), rtol=1e-9)
    np.testing.assert_allclose(points[:, 1], 0.0, atol=1e-9)
    plane = rng.normal(size=(50, 2)) * [3.0, 1.0] @ np.linalg.qr(rng.normal(size=(8, 2)))[0].T
    _, share = pca_2d(plane)
    assert share.sum() == pytest.approx(1.0) and share[0] > share[1]


def test_scatter_figure_draws_each_label_in_its_colour():
    vectors = np.concatenate([np.zeros((5, 4)), np.ones((5, 4)) * 4]) + np.random.default_rng(2).normal(
        scale=0.1, size=(10, 4))
    image = scatter_figure(vectors, ["de"] * 5 + ["en"] * 5, "two clusters")
    colours = {tuple(c) for c in np.asarray(image).reshape(-1, 3)}
    assert (31, 119, 180) in colours and (255, 127, 14) in colours  # the first two palette colours
    with pytest.raises(ValueError, match="10 vectors but 3 labels"):
        scatter_figure(vectors, ["a", "b", "c"])


def test_command_on_parallel_files(tmp_path, capsys):
    pytest.importorskip("pangocairocffi")
    from pixel.cli.main import main

    model = Path(__file__).resolve().parents[2] / "models" / "pixel-tiny"
    en, de = PARALLEL / "parallel.en.txt", PARALLEL / "parallel.de.txt"
    common = ["embed", "--model", str(model), "--device", "cpu", "--quiet", "--max-seq-length", "48"]
    assert main([*common, "--retrieval", str(en), str(en)]) == 0
    out = capsys.readouterr().out
    assert "retrieval of 6 pairs" in out and "chance: top-1 0.167, MRR 0.408" in out
    assert len(re.findall(r"top-1 1\.000, MRR 1\.000", out)) == 2  # a text finds itself
    assert main([*common, "--retrieval", str(en), str(de)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"parallel\.en\.txt -> .*parallel\.de\.txt: top-1 \d\.\d{3}, MRR \d\.\d{3}", out)
    assert re.search(r"parallel\.de\.txt -> .*parallel\.en\.txt: top-1 \d\.\d{3}, MRR \d\.\d{3}", out)
    jsonl = tmp_path / "labelled.jsonl"
    jsonl.write_text("".join(f'{{"text": "{line}", "lang": "{lang}"}}\n' for path, lang in ((en, "en"), (de, "de"))
                             for line in path.read_text(encoding="utf-8").splitlines()), encoding="utf-8")
    picture = tmp_path / "scatter.png"
    assert main([*common, "--jsonl", str(jsonl), "--label-field", "lang", "--scatter", str(picture)]) == 0
    from PIL import Image

    assert Image.open(picture).size == (680, 560)
