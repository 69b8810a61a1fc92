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
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

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
