"""Theme key phrases.

Candidates are noun-phrase-like runs of one to three words found *within* a sentence: a text is split
into sentences, and each sentence at punctuation, so a phrase never joins the end of one thought to
the start of the next ("works. Good luck" gives no "works luck"). A candidate has no stopword,
chat filler ("ah", "lol") or common verb ("said", "seems") at either end, and inside it only "of"
("rate of requests"). Without a part-of-speech tagger in the venv, these word lists stand in for one.

Candidates are weighted by class-based TF-IDF, as BERTopic does. All texts of one group are one
"class document"; a phrase's weight in a class is the share of the group's messages that contain it
times ``log(1 + A / f)``, where ``A`` is the average number of phrase occurrences per class and ``f``
the phrase's count over all classes. Phrases frequent in this group and rare in the others win; a
phrase is counted once per message, so one long message repeating a word does not carry the theme.

Titles live in ``titles.py``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

_BASE_STOP = None  # filled lazily from scikit-learn's English list (importing sklearn is slow)


# Chat filler, reactions and words that say nothing about a subject.
def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


FILLER_WORDS = _words(
    """
    ah ahh aha oh ohh uh uhm um umm hmm hm mm lol lmao rofl haha hahaha hehe heh yay wow ok okay yes yeah yep yup
    nope nah sure thanks thank thx ty tysm pls plz please hi hello hey hiya cheers bye luck cool nice great awesome
    good fine sorry welcome btw imo imho afaik fyi tbh idk iirc gonna wanna gotta guys folks everyone anyone
    someone somebody anybody everybody thing things stuff something anything everything nothing bit lot lots kind
    sort way ways today yesterday tomorrow tonight morning evening week weeks day days time times year years
    really actually basically probably maybe perhaps already still also even ever never always sometimes just
    quite pretty very too much many anyway though however yet soon now again here there else instead exactly
    definitely totally literally simply certainly apparently hopefully unfortunately currently recently
    usually finally especially etc ie eg vs via per able unable sure true false right wrong same different
    whole new old little big lot lots tho pm am ago small large half few fewer less more most least full quick
    obviously clearly really seriously properly correctly easily slightly fully mostly nearly likely
    """
)
# Words that are frequent in community messages but name no subject on their own; they may end a phrase
# ("login issue") but are never a key phrase alone.
GENERIC_WORDS = _words("issue issues problem problems question questions help error errors bug bugs")
# Common verbs and their forms, that start or end no noun phrase ("said finance", "seems broken").
_VERBS = """
    say says said saying think thinks thought thinking seem seems seemed seeming guess guessed wish wished hope
    hoped hoping try tries tried trying want wants wanted wanting need needs needed needing know knows knew known
    knowing mean means meant feel feels felt look looks looked looking see sees saw seen seeing get gets got gotten
    getting go goes went gone going make makes made making let lets take takes took taken taking give gives gave
    given giving come comes came coming keep keeps kept keeping tell tells told telling ask asks asked asking find
    finds found finding do does did done doing have has had having be been being is are was were am can could
    would should will shall may might must happen happens happened appear appears appeared become becomes became
    use uses used using work works worked working like likes liked love loved hate hated agree agreed suggest
    suggested wonder wondering wondered believe believed notice noticed noticing realize realized figure figured
    mention mentioned solve solved fix fixed fixes check checked checking show shows showed shown showing
    put puts run runs ran running call called calls help helps helped helping start started starts stop stopped
    seem doesn don didn isn aren wasn weren won wouldn shouldn couldn hasn haven hadn ll ve re
"""
VERB_WORDS = _words(_VERBS)
# Inside a three-word phrase only this joins two nouns ("rate of requests").
_INNER = frozenset(["of"])

# Sentences end at . ! ? followed by a space, and at new lines; inside a sentence, phrases also stop at
# other punctuation (commas, colons, brackets, quotes, dashes between words).
_SPLIT = re.compile(
    r"[.!?]+(?=\s|$)|[\n\r]+|[,;:()\[\]{}<>\"\u201c\u201d\u2018\u2019|/\\]+|\s[-\u2013\u2014]+\s|(?<!\w)'|'(?!\w)"
)
_URLISH = re.compile(
    r"(https?://|www\.)\S*|\b[\w-]+(\.[\w-]+)*\.(com|org|net|io|dev|app|ai|co|gg|me|sh)\b\S*|\S+@\S+", re.IGNORECASE
)
_SHORTCODE = re.compile(r":[a-z0-9_+-]{2,30}:")  # emoji
_TOKEN = re.compile(r"[^\W\d_][\w.+#'-]*[\w+#]|[^\W\d_]")
MAX_TEXT_CHARS = 2000


def stop_words() -> frozenset[str]:
    """English stopwords, chat filler and common verbs: what starts or ends no key phrase."""
    global _BASE_STOP
    if _BASE_STOP is None:
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        _BASE_STOP = frozenset(ENGLISH_STOP_WORDS) | FILLER_WORDS | VERB_WORDS
    return _BASE_STOP


def _edge_ok(word: str, stop: frozenset[str]) -> bool:
    return len(word) >= 2 and word not in stop and "'" not in word and not word[-1] in ".-"


def candidates(text: str) -> set[str]:
    """The distinct candidate phrases of one text (lowercased; 1 to 3 words within one sentence piece)."""
    stop = stop_words()
    found: set[str] = set()
    text = _SHORTCODE.sub(" . ", _URLISH.sub(" . ", text[:MAX_TEXT_CHARS]))
    for piece in _SPLIT.split(text):
        words = [w.lower() for w in _TOKEN.findall(piece) if len(w) <= 30]
        n = len(words)
        for i, first in enumerate(words):
            if not _edge_ok(first, stop):
                continue
            # a lone word ending in -ed or -ly is a verb or an adverb far more often than a subject
            if first not in GENERIC_WORDS and len(first) >= 3 and not first.endswith(("ed", "ly")):
                found.add(first)
            if i + 1 < n:
                second = words[i + 1]
                if _edge_ok(second, stop):
                    found.add(f"{first} {second}")
                if i + 2 < n and (second in _INNER or _edge_ok(second, stop)) and _edge_ok(words[i + 2], stop):
                    found.add(f"{first} {second} {words[i + 2]}")
    return found


def key_phrases(groups: Sequence[Iterable[str]], *, top: int = 6) -> list[list[str]]:
    """For each group of texts, its ``top`` key phrases (one to three words), best first."""
    from scipy.sparse import csr_matrix

    vocabulary: dict[str, int] = {}
    data: list[float] = []
    cols: list[int] = []
    indptr = [0]
    sizes = []
    for group in groups:
        counts: Counter[str] = Counter()
        size = 0
        for text in group:
            counts.update(candidates(text))
            size += 1
        sizes.append(max(size, 1))
        for phrase, count in counts.items():
            cols.append(vocabulary.setdefault(phrase, len(vocabulary)))
            data.append(float(count))
        indptr.append(len(cols))
    if not vocabulary:
        return [[] for _ in groups]
    terms = np.empty(len(vocabulary), dtype=object)
    for phrase, j in vocabulary.items():
        terms[j] = phrase
    tf = csr_matrix(
        (np.asarray(data), np.asarray(cols, dtype=np.int64), np.asarray(indptr)), shape=(len(sizes), len(terms))
    )
    total_per_term = np.asarray(tf.sum(0)).ravel()
    avg = float(tf.sum()) / max(len(sizes), 1)
    idf = np.log(1.0 + avg / np.maximum(total_per_term, 1.0))
    length = np.array([len(t.split()) for t in terms])
    result = []
    for r, size in enumerate(sizes):
        lo, hi = tf.indptr[r], tf.indptr[r + 1]
        idx, counts_row = tf.indices[lo:hi], tf.data[lo:hi]
        # in a group of several messages, a phrase only one of them uses is that message's, not the group's
        if size >= 4 and (counts_row >= 2).sum() >= top:
            keep = counts_row >= 2
            idx, counts_row = idx[keep], counts_row[keep]
        weight = (counts_row / size) * idf[idx]
        result.append(_choose([str(t) for t in terms[idx]], weight, length[idx], top))
    return result


def _choose(terms: list[str], weight: np.ndarray, length: np.ndarray, top: int) -> list[str]:
    weight_of = dict(zip(terms, weight))
    longer_of: dict[str, list[str]] = {}
    for term, n in zip(terms, length):
        if n > 1:
            for word in set(term.split()) - _INNER:
                longer_of.setdefault(word, []).append(term)
    chosen: list[str] = []
    for i in np.argsort(-weight, kind="stable"):
        if len(chosen) >= top:
            break
        term = terms[i]
        if length[i] == 1:
            # prefer the longer phrase carrying this word when it is nearly as distinctive ("dark mode")
            best = max(longer_of.get(term, []), key=lambda t: (weight_of[t], -len(t)), default=None)
            if best is not None and weight_of[best] >= 0.5 * weight[i]:
                term = best
        words = set(term.split())
        # skip a phrase sharing a content word with one already chosen ("csv export", "export")
        if any((words & set(c.split())) - _INNER for c in chosen):
            continue
        chosen.append(term)
    return chosen


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
