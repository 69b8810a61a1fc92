"""Duplicate ranking: how likely each candidate asks the same thing as the query.

score = cos(full texts) + HEAD_WEIGHT * cos(heads) + LEXICAL_WEIGHT * tf-idf cosine

* full texts: MiniLM cosine of the prepared title + body.
* heads: the title when there is one, else the first ``HEAD_WORDS`` words. The opening of a post
  names its subject; the body adds details (versions, context) that differ between two people
  hitting the same problem, so a second look at the head alone corrects rankings that the details
  skew. On the development set every head length from 12 to 24 words and weight from 0.3 to 0.5
  beat plain cosine; we use the middle of that plateau, not its peak.
* lexical: sublinear tf-idf cosine (idf from the query and its candidates, or from the corpus when
  the product passes one). A small weight: it only breaks near-ties in favour of shared rare tokens
  such as error codes and product names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from townsquare.feedback.pipeline.embed import embed
from townsquare.sources.text import prepare

HEAD_WORDS = 16
HEAD_WEIGHT = 0.3
LEXICAL_WEIGHT = 0.05
_TOKEN = re.compile(r"\w+", re.UNICODE)


def head_of(text: str, title: str | None = None) -> str:
    if title and title.strip():
        return title.strip()
    return " ".join(text.split()[:HEAD_WORDS])


def lexical_scores(query: str, candidates: Sequence[str]) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = [query, *candidates]
    if not any(_TOKEN.search(d) for d in docs):
        return np.zeros(len(candidates))
    try:
        matrix = TfidfVectorizer(sublinear_tf=True, stop_words="english").fit_transform(docs)
    except ValueError:  # only stop words
        return np.zeros(len(candidates))
    return (matrix[1:] @ matrix[0].T).toarray().ravel()


def combine(full: np.ndarray, head: np.ndarray, lexical: np.ndarray) -> np.ndarray:
    return full + HEAD_WEIGHT * head + LEXICAL_WEIGHT * lexical


def score_vectors(
    query_full: np.ndarray, query_head: np.ndarray, cand_full: np.ndarray, cand_head: np.ndarray, lexical: np.ndarray
) -> np.ndarray:
    return combine(cand_full @ query_full, cand_head @ query_head, lexical)


def rank_scores(query: str, candidates: Sequence[str]) -> list[float]:
    """Scores (higher = more likely a duplicate), one per candidate, from raw texts."""
    if not candidates:
        return []
    texts = [prepare(None, t) for t in [query, *candidates]]
    heads = [head_of(t) for t in texts]
    vectors = embed(texts + heads)
    full, head = vectors[: len(texts)], vectors[len(texts) :]
    lexical = lexical_scores(texts[0], texts[1:])
    return [float(s) for s in score_vectors(full[0], head[0], full[1:], head[1:], lexical)]
