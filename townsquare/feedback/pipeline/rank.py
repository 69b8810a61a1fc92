"""Duplicate ranking: how alike two messages are, each read whole ("more like this", merge proposals).

A message's stored vector reads its first ``MAX_TOKENS`` word pieces (what classification and theme
assignment need, cheaply). To compare two messages, a long one is read whole: in windows of
``LONG_TOKENS`` (``embed.long_windows``), averaged with equal weights into one unit vector, its
"whole" vector; a short one's whole vector is its stored vector. Similarity is the cosine of the whole
vectors, with no other term.

Chosen by cross-validation over four sets (SemEval 2016 3B dev in two halves of its queries, and the
bitcoin-core/gui linked-issue set of ``benchmarks/longtext_duplicates.py`` in two halves that share no
link), leaving each set out in turn (``benchmarks/feedback_quality.py``): adding a weighted head cosine
and a BM25 term, or windows of 128 word pieces, scored best on the sets tuned on and worse than this
weight-free form on the set left out, every time. Plain MiniLM at 256 word pieces reads a long text's
first 256 pieces only; this reads up to ``LONG_TOKENS * LONG_WINDOWS``.

The search index holds the stored (first-window) vectors, so a query searches it twice, with its
stored vector and with its whole vector, ``SHORTLIST`` candidates each, and the union is ranked by
whole vectors: on the linked-issue set that keeps all but 0.6 MAP of ranking every issue.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from townsquare.feedback.pipeline.embed import DIMENSIONS, embed, embed_long
from townsquare.sources.text import prepare

# Candidates taken from the index per search, for each result to show.
SHORTLIST_PER_RESULT = 5


def whole_of(head: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """The whole-text unit vector: the mean of the windows' vectors, or ``head`` when there are none."""
    if not len(windows):
        return np.asarray(head, dtype=np.float32)
    mean = np.asarray(windows, dtype=np.float32).mean(0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm > 0 else np.asarray(head, dtype=np.float32)


def whole_vectors(texts: Sequence[str], heads: np.ndarray | None = None) -> np.ndarray:
    """Whole-text vectors of prepared texts (``heads``: their stored vectors, when already known)."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    heads = embed(texts) if heads is None else heads
    return np.stack([whole_of(h, w) for h, w in zip(heads, embed_long(texts))])


def shortlist(query_head: np.ndarray, query_whole: np.ndarray, heads: np.ndarray, count: int) -> np.ndarray:
    """Rows of ``heads`` a search of the index finds: the ``count`` nearest to each query vector.

    What ``services.more_like_this`` asks of the index, computed exactly (benchmarks, small pools).
    """
    found: set[int] = set()
    for vector in (query_head, query_whole):
        sims = heads @ vector
        found.update(int(i) for i in np.argsort(-sims, kind="stable")[:count])
    return np.array(sorted(found), dtype=np.int64)


def similarities(query_whole: np.ndarray, wholes: np.ndarray) -> np.ndarray:
    return np.asarray(wholes, dtype=np.float32) @ np.asarray(query_whole, dtype=np.float32)


def rank_scores(query: str, candidates: Sequence[str]) -> list[float]:
    """Scores (higher = more likely a duplicate), one per candidate, from raw texts."""
    if not candidates:
        return []
    wholes = whole_vectors([prepare(None, t) for t in [query, *candidates]])
    return [float(s) for s in similarities(wholes[0], wholes[1:])]
