"""The two plug-in functions for the reference scripts in ``shared/eval`` (``--method module:func``).

They run the product's pipeline: the same text preparation, embedding, clustering and ranking code.
"""

from __future__ import annotations

from townsquare.feedback.pipeline.cluster import cluster_vectors
from townsquare.feedback.pipeline.embed import embed
from townsquare.feedback.pipeline.rank import rank_scores
from townsquare.sources.text import prepare


def cluster(texts: list[str]) -> list[int]:
    """texts -> cluster ids; the number of clusters is discovered, not given."""
    vectors = embed([prepare(None, t) for t in texts])
    return [int(c) for c in cluster_vectors(vectors)]


def rank(query: str, candidates: list[str]) -> list[float]:
    """query, candidates -> scores (higher = more similar)."""
    return rank_scores(query, candidates)
