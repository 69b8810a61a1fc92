"""Theme titles and key phrases.

Key phrases come from class-based TF-IDF, as BERTopic does. All texts of one group are one "class
document"; a term's weight in a class is its frequency there times ``log(1 + A / f)`` where ``A`` is
the average number of words per class and ``f`` the term's frequency over all classes. Terms frequent
in this group and rare in the others win.

Titles are a human line, not a list of phrases: the headline (title, else first real sentence) of the
group's most representative message, the one closest to the group's centre, with thread starters that
carry a title preferred when they are nearly as central. Key phrases are only the fallback title.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from townsquare.sources.text import clean_body

# Words that are frequent in community messages but say nothing about the subject.
EXTRA_STOP_WORDS = frozenset(
    [
        "hi",
        "hello",
        "hey",
        "thanks",
        "thank",
        "please",
        "help",
        "issue",
        "problem",
        "question",
        "using",
        "use",
        "get",
        "got",
        "just",
        "like",
        "know",
        "want",
        "need",
        "trying",
        "try",
        "does",
        "doesn",
        "work",
        "working",
        "way",
        "anyone",
        "someone",
        "able",
    ]
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


# ----------------------------------------------------------------------------------------- titles

TITLE_CHARS = 80
# A thread starter with a title wins over a more central message when it is at most this much less
# similar to the centre (cosine): its author already wrote the summary line.
STARTER_BONUS = 0.08
# Each key phrase word in a headline adds this much (up to three words): prefer lines naming the subject.
PHRASE_BONUS = 0.015
# How many of the most central messages are considered for the title.
TITLE_CANDIDATES = 8

_SUBJECT_PREFIX = re.compile(r"^\s*((re|fwd?|aw|sv)\s*:\s*|\[[^\]]{1,40}\]\s*|#\d+\s+)+", re.IGNORECASE)
_GREETING = re.compile(
    r"^(hi|hello|hey|hiya|howdy|greetings|dear|good (morning|afternoon|evening)|yo)\b"
    r"([ ]+(all|everyone|everybody|folks|guys|team|there|people|friends|y'?all|everysoul|devs|experts))*"
    r"[ ]*[,!.:;\u2014-]*\s*",
    re.IGNORECASE,
)
# "nick: ...", "@nick ..." and "nick_2, ..." at the start of chat replies; "Question: ...", "Update: ..." and
# fillers ("So, ...") too. A plain word before a comma stays: "Python, Node and Go SDKs all fail".
_ADDRESS = re.compile(
    r"^(@[\w.\-]+[,:]?\s+|[\w\-\[\]^|`{}]{2,24}:\s+(?=\S)|[\w\-\[\]^|`{}]*[\d_^|`{}\[\]][\w\-\[\]^|`{}]*,\s+"
    r"|(so|well|also|ok|okay|hmm+|however|btw|anyway|anywho|edit|update|agreed|indeed|sure|yes|yeah|yep),\s+)",
    re.IGNORECASE,
)
_MD_LINK = re.compile(r"!?\[([^\]]{0,200})\]\([^)]{0,500}\)")
# Markdown headings, bullets and emphasis, and emoji shortcodes; "page_size" keeps its underscore.
_MD_NOISE = re.compile(
    r"(^|\s)(#{1,6}|[*+-]|\d+[.)])\s+|(?<!\w)[*_~]{1,3}(?=\w)|(?<=\w)[*_~]{1,3}(?!\w)|:[a-z0-9_+-]{2,30}:|`"
)
_LONG_TOKEN = re.compile(r"\S{41,}")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(@])|\n+")
_NOT_A_SUMMARY = re.compile(
    r"^(thanks|thank you|thx|ty|sorry|apologies|ok|okay|yes|yeah|yep|no|nope|same here|same|me too|\+1|"
    r"any updates?|bump|lol|great|cool|nice|welcome|i see|got it|i have a question|quick question|question)\b"
    r"[\s,.!?:]*($|(for|so|to|again|a lot|everyone|all)\b)",
    re.IGNORECASE,
)
_WS = re.compile(r"\s+")
_WORD = re.compile(r"[^\W\d_]{2,}")


def _tidy(line: str, *, body: bool) -> str:
    line = _MD_LINK.sub(r"\1", line)
    line = _WS.sub(" ", line).strip(" \t\"'\u201c\u201d\u2018\u2019`|>-")
    for _ in range(3):  # "Hi all, @ana: ..." carries several openers
        before = line
        line = _GREETING.sub("", line, count=1)
        if body:  # in a title, "SAML: login loop" is the subject, not someone addressed
            line = _ADDRESS.sub("", line, count=1)
        line = line.strip()
        if line == before:
            break
    line = _MD_NOISE.sub(" ", line)
    line = _LONG_TOKEN.sub(" ", line)
    return _WS.sub(" ", line).strip(" \t\"'\u201c\u201d\u2018\u2019`|>-")


def _usable(line: str) -> bool:
    return len(_WORD.findall(line)) >= 3 and not _NOT_A_SUMMARY.match(line)


def _shorten(line: str, limit: int) -> str:
    line = line.rstrip(" ,;:-")
    if line.endswith(".") and not line.endswith(".."):
        line = line[:-1]
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-(") + "\u2026"


def headline(title: str | None, body: str | None, *, limit: int = TITLE_CHARS) -> str:
    """A one-line summary of one message, or "" when it has none.

    Its title when it has a usable one (without "Re:", "[list]" or "#123" prefixes), else the first
    sentence of its body that says something, after code, quotes, markup, greetings and chat
    addressing ("nick: ") are removed. Cut at a word boundary to ``limit`` characters.
    """
    candidates: list[tuple[str, bool]] = []
    if title and title.strip():
        candidates.append((_SUBJECT_PREFIX.sub("", title), False))
    cleaned = clean_body(body or "")
    candidates.extend((sentence, True) for sentence in _SENTENCE_END.split(cleaned[:3000]))
    for raw, in_body in candidates:
        line = _tidy(raw.replace("\x00", " "), body=in_body)
        if _usable(line):
            line = _shorten(line, limit)
            return line[:1].upper() + line[1:]
    return ""


@dataclass(frozen=True, eq=False)
class TitleSource:
    """One message of a group, as far as choosing the group's title needs it."""

    title: str
    body: str
    starts_thread: bool
    vector: np.ndarray | None


def group_title(messages: Sequence[TitleSource], key: Sequence[str], *, limit: int = TITLE_CHARS) -> str:
    """A readable title for a group: the headline of its most representative message.

    Messages are ranked by cosine to the group's centre; a thread starter with a title gets
    ``STARTER_BONUS`` and each key phrase word in the headline ``PHRASE_BONUS``. When no message among
    the most central gives a usable line, the title is made from the key phrases.
    """
    with_vectors = [m for m in messages if m.vector is not None]
    if with_vectors:
        matrix = np.stack([np.asarray(m.vector, dtype=np.float32) for m in with_vectors])
        centre = matrix.mean(0)
        norm = float(np.linalg.norm(centre))
        sims = matrix @ (centre / norm if norm > 0 else centre)
        ranked = [with_vectors[i] for i in np.argsort(-sims, kind="stable")[:TITLE_CANDIDATES]]
        # every titled thread starter may compete too: its bonus can outweigh a few more central replies
        chosen = {id(m) for m in ranked}
        ranked += [m for m in with_vectors if m.starts_thread and m.title.strip() and id(m) not in chosen]
        closeness = {id(m): float(s) for m, s in zip(with_vectors, sims)}
    else:
        ranked = list(messages[:TITLE_CANDIDATES])
        closeness = {}
    key_words = {w for phrase in key for w in phrase.lower().split()}
    best, best_score = "", -np.inf
    for message in ranked:
        line = headline(message.title, message.body, limit=limit)
        if not line:
            continue
        score = closeness.get(id(message), 0.0)
        if message.starts_thread and message.title.strip():
            score += STARTER_BONUS
        hits = len(key_words & {w.lower().strip(".,:;!?()") for w in line.split()})
        score += PHRASE_BONUS * min(hits, 3)
        if score > best_score:
            best, best_score = line, score
    return best or title_from_phrases(key)
