"""A long-text duplicate set from public data: bitcoin-core/gui issues that point at each other.

The GitHub backup in ``../shared/data/github/bitcoin-core-gui-metadata-backup`` holds 341 issues of
several paragraphs (a bug-report template: steps, expected, actual, versions). An issue is a query when
its text or one of its comments names another issue of the backup (``#N`` or its URL) outside code
blocks and backtraces; the issues it names, and those naming it, are its positives. That is the
"related" relation of SemEval 2016 3B (perfect match or relevant), which these links mostly are
("duplicated with #564", "Is #104 the same?", "See related #33"). ``strict`` keeps only links whose
sentence says so (duplicate, same, similar, in favour of, already, tracked in). The candidates of a
query are all other issues, as "more like this" searches a whole workspace.

The ``part`` of a query splits the set in two halves by connected group of links, so the two halves
share no issue pair and can be tuned on and tested on apart.
"""

from __future__ import annotations

import gzip
import json
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "github" / "bitcoin-core-gui-metadata-backup"
_REF = re.compile(r"(?:(?<![\w/#])#|bitcoin-core/gui#|github\.com/bitcoin-core/gui/(?:issues|pull)/)(\d+)\b(?!\]\s)")
_CODE = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)
_FRAME = re.compile(r"^\s*#\d+\s", re.MULTILINE)  # a backtrace frame: "#1  0x... in ..."
_STRICT = re.compile(
    r"dup|same|similar|in favou?r of|already|tracked in|identical|superseded|covered by|fixed by", re.IGNORECASE
)


@dataclass
class DuplicateSet:
    titles: dict[str, str]
    bodies: dict[str, str]
    positives: dict[str, set[str]]  # query id -> related ids
    part: dict[str, int] = field(default_factory=dict)  # query id -> 0 or 1


def _links(text: str) -> list[tuple[int, bool]]:
    text = _CODE.sub(" ", text or "")
    text = _FRAME.sub(" ", text)
    found = []
    text = text.replace("]()", "] ")  # "[#1]()": a numbered point of the post, not an issue
    for sentence in re.split(r"(?<=[.?!])\s+|\n", text):
        strict = bool(_STRICT.search(sentence))
        found += [(int(m.group(1)), strict) for m in _REF.finditer(sentence)]
    return found


def load(folder: Path = DEFAULT, *, strict: bool = False) -> DuplicateSet:
    issues = {}
    for path in sorted(folder.glob("issues/*.json.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            record = json.load(handle)
        issues[int(record["issue"]["number"])] = record
    edges: dict[int, set[int]] = defaultdict(set)
    for number, record in issues.items():
        texts = [record["issue"].get("body") or ""]
        texts += [e.get("body") or "" for e in record["events"] if e.get("event") == "commented"]
        for text in texts:
            for other, is_strict in _links(text):
                if other in issues and other != number and (is_strict or not strict):
                    edges[number].add(other)
                    edges[other].add(number)
    titles = {str(n): r["issue"].get("title") or "" for n, r in issues.items()}
    bodies = {str(n): r["issue"].get("body") or "" for n, r in issues.items()}
    positives = {str(n): {str(o) for o in others} for n, others in edges.items()}
    # connected groups of links, alternately to part 0 and 1 (by their lowest issue number)
    part: dict[str, int] = {}
    groups = 0
    for start in sorted(edges):
        if str(start) in part:
            continue
        stack, seen = [start], {start}
        while stack:
            node = stack.pop()
            for other in edges[node]:
                if other not in seen:
                    seen.add(other)
                    stack.append(other)
        for node in seen:
            part[str(node)] = groups % 2
        groups += 1
    return DuplicateSet(titles, bodies, positives, part)


if __name__ == "__main__":
    for is_strict in (False, True):
        data = load(strict=is_strict)
        pairs = sum(len(v) for v in data.positives.values()) // 2
        print(f"strict={is_strict}: {len(data.titles)} issues, {len(data.positives)} queries, {pairs} linked pairs")
        for q in sorted(data.positives, key=int)[:400]:
            print("  ", q, data.titles[q][:50], "->", sorted(data.positives[q], key=int))


# ------------------------------------------------------------------------------- evaluation


@dataclass
class Query:
    qid: str
    candidates: list[str]
    labels: list[int]


def github_queries(data: DuplicateSet) -> list[Query]:
    ids = sorted(data.titles, key=int)
    return [
        Query(q, [i for i in ids if i != q], [int(i in data.positives[q]) for i in ids if i != q])
        for q in sorted(data.positives, key=int)
    ]


def semeval_queries(folder: Path, split: str, ae: Any) -> tuple[dict[str, str], dict[str, str], list[Query]]:
    """SemEval 2016 3B in the reference script's reading (``ae``: the ``askubuntu_eval`` module)."""
    texts = ae.read_corpus(ae.find_corpus(str(folder)))
    queries = [Query(q, list(c), list(labels)) for q, c, labels, _ in ae.read_annotations(str(folder / f"{split}.txt"))]
    return {k: v[0] for k, v in texts.items()}, {k: v[1] for k, v in texts.items()}, queries


def metrics(ranked: list[list[int]], ae: Any) -> dict[str, float]:
    """MAP, MRR and recall@10 over queries with a positive (Lei et al. 2016, as the reference script)."""
    rows = [r for r in ranked if any(r)]
    if not rows:
        return {"queries": 0}
    return {
        "MAP": round(100 * sum(ae._ap(r) for r in rows) / len(rows), 1),
        "MRR": round(100 * sum(1 / (r.index(1) + 1) for r in rows) / len(rows), 1),
        "R@10": round(100 * sum(sum(r[:10]) / sum(r) for r in rows) / len(rows), 1),
        "queries": len(rows),
    }


def ranked(queries: list[Query], score: Any) -> list[list[int]]:
    """Each query's labels in the order of ``score(query id, candidate ids)`` (stable on ties)."""
    out = []
    for query in queries:
        scores = np.asarray(score(query.qid, query.candidates), dtype=np.float64)
        order = np.argsort(-scores, kind="stable")
        out.append([query.labels[i] for i in order])
    return out


@dataclass
class Vectors:
    """What each compared method reads of one corpus, computed once."""

    ids: list[str]
    prepared: list[str]
    raw: list[str]
    head: np.ndarray  # the stored vector: first MAX_TOKENS word pieces (the product before)
    windows: dict[int, list[np.ndarray]]  # window width -> per text (product, whole-text read)
    minilm: np.ndarray  # plain MiniLM at 256 word pieces, the reference script's model and text
    seconds: dict[str, float] = field(default_factory=dict)

    def row(self) -> dict[str, int]:
        return {key: i for i, key in enumerate(self.ids)}


def vectors(titles: dict[str, str], bodies: dict[str, str], ae: Any, widths: tuple[int, ...] = (256,)) -> Vectors:
    from townsquare.feedback.pipeline import embed
    from townsquare.sources.text import prepare

    ids = sorted(titles)
    prepared = [prepare(titles[i], bodies[i]) for i in ids]
    raw = [(titles[i] + " " + bodies[i]).strip() for i in ids]
    seconds = {}
    started = time.perf_counter()
    head = embed.embed(prepared)
    seconds["head"] = time.perf_counter() - started
    windows = {}
    for width in widths:
        started = time.perf_counter()
        windows[width] = embed.embed_long(
            prepared, width=width, max_windows=embed.LONG_TOKENS * embed.LONG_WINDOWS // width
        )
        seconds[f"windows_{width}"] = time.perf_counter() - started
    started = time.perf_counter()
    minilm = ae.minilm_model().encode(raw, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    seconds["minilm_256"] = time.perf_counter() - started
    return Vectors(ids, prepared, raw, head, windows, minilm, seconds)


def bm25_scores(v: Vectors, queries: list[Query], ae: Any, *, pool_idf: bool) -> dict[str, np.ndarray]:
    """Okapi BM25 of the reference script; idf from the whole corpus, or from each query's pool."""
    row = v.row()
    tokens = [ae.tokenize(t) for t in (v.prepared if pool_idf else v.raw)]
    corpus = None if pool_idf else ae.BM25(tokens)
    out = {}
    for query in queries:
        q = tokens[row[query.qid]]
        model = corpus or ae.BM25([q] + [tokens[row[c]] for c in query.candidates])
        out[query.qid] = np.array([model.score(q, tokens[row[c]]) for c in query.candidates])
    return out


def product_scorer(v: Vectors, *, shortlist_of: int | None = None, width: int = 256) -> Any:
    """The product's "more like this" ranking: whole vectors (``rank.whole_of``), cosine
    (``rank.similarities``); with ``shortlist_of``, only the candidates its two index searches find
    for that many results (``rank.shortlist``, exact here), the others last."""
    from townsquare.feedback.pipeline import rank

    row = v.row()
    wholes = np.stack([rank.whole_of(h, w) for h, w in zip(v.head, v.windows[width])])

    def score(qid: str, candidates: list[str]) -> np.ndarray:
        rows = [row[c] for c in candidates]
        q = row[qid]
        scores = rank.similarities(wholes[q], wholes[rows])
        if shortlist_of is None:
            return scores
        count = shortlist_of * rank.SHORTLIST_PER_RESULT + 1
        kept = rank.shortlist(v.head[q], wholes[q], v.head[rows], count)
        out = np.full(len(rows), -10.0)
        out[kept] = scores[kept]
        return out

    return score


def cosine_scorer(matrix: np.ndarray, v: Vectors) -> Any:
    row = v.row()
    return lambda qid, candidates: matrix[[row[c] for c in candidates]] @ matrix[row[qid]]
