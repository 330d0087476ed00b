"""Nearest-neighbour retrieval over parallel texts: query i's answer is candidate i (line i of A translates
line i of B); every candidate is ranked by cosine similarity to the query.

The rank of the answer counts the other candidates that score at least as high (ties count against), so a
model that gives every text the same vector ranks every answer last instead of first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class RetrievalScores:
    """ranks: int64 [N], 1 = the answer is the nearest candidate. top1: share of rank 1; mrr: mean of 1/rank."""

    ranks: np.ndarray

    @property
    def top1(self) -> float:
        return float(np.mean(self.ranks == 1))

    @property
    def mrr(self) -> float:
        return float(np.mean(1.0 / self.ranks))


def cosine_similarities(queries: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """queries [N, D], candidates [M, D] -> float64 [N, M]; a zero vector is similar to nothing (0)."""
    def unit(vectors: np.ndarray) -> np.ndarray:
        vectors = np.asarray(vectors, dtype=np.float64)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

    return unit(queries) @ unit(candidates).T


def answer_ranks(similarities: np.ndarray) -> np.ndarray:
    """similarities [N, N] (query i's answer is candidate i) -> int64 [N]: 1 + the number of other candidates
    scoring at least the answer's similarity."""
    similarities = np.asarray(similarities)
    if similarities.ndim != 2 or similarities.shape[0] != similarities.shape[1]:
        raise ValueError(f"expected a square [N, N] similarity matrix, got shape {list(similarities.shape)}")
    answer = np.diagonal(similarities)[:, None]
    return (similarities >= answer).sum(axis=1).astype(np.int64)  # the answer itself counts as 1


def retrieval_scores(queries: np.ndarray, candidates: np.ndarray) -> RetrievalScores:
    """Retrieval of candidates[i] for queries[i] ([N, D] each) by cosine similarity."""
    if len(queries) != len(candidates) or not len(queries):
        raise ValueError(f"retrieval needs as many queries as candidates, at least one: got {len(queries)} and "
                         f"{len(candidates)}")
    if not (np.isfinite(queries).all() and np.isfinite(candidates).all()):
        raise ValueError("the embeddings hold NaN or infinite values: check the model and its precision")
    return RetrievalScores(answer_ranks(cosine_similarities(queries, candidates)))


def chance_scores(n: int) -> tuple[float, float]:
    """(top-1, MRR) of a random ranking of ``n`` candidates: 1/n and (1 + 1/2 + ... + 1/n) / n."""
    return 1.0 / n, float(np.sum(1.0 / np.arange(1, n + 1)) / n)
