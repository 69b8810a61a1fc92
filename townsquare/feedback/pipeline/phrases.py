"""Theme titles and key phrases by class-based TF-IDF, as BERTopic does.

All texts of one group are one "class document"; a term's weight in a class is its frequency there
times ``log(1 + A / f)`` where ``A`` is the average number of words per class and ``f`` the term's
frequency over all classes. Terms frequent in this group and rare in the others win.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Words that are frequent in community messages but say nothing about the subject.
EXTRA_STOP_WORDS = frozenset(
    "hi hello hey thanks thank please help issue problem question using use get got just like know "
    "want need trying try does doesn work working way anyone someone able"
    .split()
)


def key_phrases(groups: Sequence[Sequence[str]], *, top: int = 6) -> list[list[str]]:
    """For each group of texts, its ``top`` key phrases (uni- and bigrams), best first."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    docs = [" ".join(g) for g in groups]
    if not any(d.strip() for d in docs):
        return [[] for _ in groups]
    stop = list(ENGLISH_STOP_WORDS | EXTRA_STOP_WORDS)
    try:
        vectorizer = CountVectorizer(ngram_range=(1, 2), stop_words=stop, token_pattern=r"(?u)\b[a-zA-Z][\w.-]+\b")
        counts = vectorizer.fit_transform(docs)
    except ValueError:  # no terms at all
        return [[] for _ in groups]
    terms = vectorizer.get_feature_names_out()
    tf = counts.toarray().astype(np.float64)
    total_per_term = tf.sum(0)
    avg_words = tf.sum() / max(len(docs), 1)
    idf = np.log(1.0 + avg_words / np.maximum(total_per_term, 1.0))
    weights = (tf / np.maximum(tf.sum(1, keepdims=True), 1.0)) * idf
    bigrams_of: dict[str, list[int]] = {}
    for j, term in enumerate(terms):
        if " " in term:
            for word in term.split():
                bigrams_of.setdefault(word, []).append(j)
    result = []
    for row in weights:
        order = np.argsort(-row)
        chosen: list[str] = []
        for i in order:
            if row[i] <= 0 or len(chosen) >= top:
                break
            term = terms[i]
            if " " not in term:
                # prefer the bigram that carries this word when it is nearly as distinctive ("dark mode")
                best = max(bigrams_of.get(term, []), key=lambda j: row[j], default=None)
                if best is not None and row[best] >= 0.5 * row[i]:
                    term = terms[best]
            if term in chosen:
                continue
            # skip a unigram already inside a chosen bigram, and vice versa
            if any(term in c.split() or c in term.split() for c in chosen):
                continue
            chosen.append(term)
        result.append(chosen)
    return result


def title_from_phrases(phrases: Sequence[str], *, count: int = 2) -> str:
    """A provisional title from the top key phrases ("Csv export, comma inside"); curators rename it."""
    if not phrases:
        return "Untitled theme"
    chosen: list[str] = []
    for phrase in phrases:
        if not any(set(phrase.split()) <= set(c.split()) for c in chosen):
            chosen.append(phrase)
        if len(chosen) >= count:
            break
    return ", ".join(chosen).capitalize()


def representatives(vectors: np.ndarray, *, top: int = 3) -> list[int]:
    """Indexes of the ``top`` members closest to the group's centroid (its most typical texts)."""
    if len(vectors) == 0:
        return []
    centroid = vectors.mean(0)
    norm = np.linalg.norm(centroid)
    if norm > 0:
        centroid = centroid / norm
    return [int(i) for i in np.argsort(-(vectors @ centroid))[:top]]
