"""Relevance maps of fine-tuned classifiers over the patches of a strip (spec 3.4): Chefer et al. 2021 and
gradient x input (``relevance``), drawn as a heat overlay on the rendered strip (``figure``).
See docs/research-tools.md."""

from .relevance import METHODS, Relevance, relevance, word_relevances

__all__ = ["METHODS", "Relevance", "relevance", "word_relevances"]
