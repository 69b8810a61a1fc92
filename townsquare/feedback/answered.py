"""Community questions that got an answer: the support audience's "answers worth reusing".

A question thread counts as answered in a period when, in that period, one of these happened (the
strongest sign wins):

* ``accepted``: the source marked an answer accepted: a GitHub discussion's chosen answer, a Discourse
  post marked as the solution (both stored as kind ``answer``);
* ``answer``: an answer on a Q&A site that has no accepted mark in the store (Stack Exchange answers);
* ``staff``: a reply by company staff (``Member.is_staff``) to someone else's question;
* ``thanked``: the asker thanked someone after their reply ("thanks, that worked").

A thread is a question when its first message is of kind ``question``, the classifier called it a
question, or its title asks one; or when its answer was accepted or thanked for (which says it asked). Threads are ranked by how often the same question comes back (other
question threads whose first message lies within ``SIMILAR`` cosine of it in the feedback vectors,
or, without vectors, other threads in the same theme), then by the distinct people in the thread.
Page views are not in the store, so they do not rank.

Lives in feedback because it reads sources and the feedback vectors, which the updates app may not.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import numpy as np
from django.db.models import F, Q

from townsquare.feedback.models import Classification, Embedding, ThemeMessage
from townsquare.feedback.vectors import get_index
from townsquare.sources.models import Message

Row = dict[str, Any]  # a .values() row
SIMILAR = 0.8  # cosine between two questions' first messages for "the same question again"
NEIGHBOURS = 25
CANDIDATE_CAP = 2000  # answer events read per period: a busy week, far above what a digest shows
THANKS = re.compile(r"\b(thanks|thank you|thx|ty|solved|that worked|works now|working now|fixed it)\b", re.IGNORECASE)
THANKS_WORDS = ("thank", "thx", "solved", "worked", "works now", "working now", "fixed it")
ACCEPTING_KINDS = frozenset({"github_discussions", "discourse_archive", "discourse"})
HOW_LABELS = {
    "accepted": "Accepted answer",
    "answer": "Answered",
    "staff": "Answered by staff",
    "thanked": "Answer the asker thanked",
}
STRENGTH = {"accepted": 0, "answer": 1, "staff": 2, "thanked": 3}


@dataclass(frozen=True)
class AnsweredQuestion:
    message_id: int  # the thread's first message
    title: str
    excerpt: str
    url: str  # http(s) link to the thread, or "" when the source gave none
    source: str
    how: str  # a HOW_LABELS key
    answered_by: str
    answered_at: dt.datetime
    answer_url: str
    people: int
    similar: int

    @property
    def how_label(self) -> str:
        return HOW_LABELS[self.how]


def safe_url(url: str) -> str:
    """The URL if it is http(s) (community data: never a ``javascript:`` link), else ""."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return ""
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else ""


def _is_reply() -> Q:
    return ~Q(parent_external_id="") | (~Q(thread_external_id="") & ~Q(thread_external_id=F("external_id")))


def _person(row: Row) -> str:
    member = row.get("author__member_id")
    return f"m{member}" if member else f"i{row.get('author_id')}"


def _name(row: Row) -> str:
    return str(row.get("author__member__display_name") or row.get("author__display_name") or "someone")


def _events(low: dt.datetime, high: dt.datetime) -> list[Row]:
    """Replies in [low, high) that may answer a question: answers, staff replies, thanks (oldest first)."""
    thanks = Q()
    for word in THANKS_WORDS:
        thanks |= Q(body__icontains=word)
    signal = Q(kind=Message.Kind.ANSWER) | Q(author__member__is_staff=True) | thanks
    rows = (
        Message.objects.filter(_is_reply(), signal, created_at__gte=low, created_at__lt=high)
        .exclude(author__is_bot=True)
        .exclude(author__member__is_bot=True)
        .order_by("created_at", "id")
        .values(
            "id",
            "source_id",
            "thread_external_id",
            "parent_external_id",
            "kind",
            "created_at",
            "body",
            "url",
            "author_id",
            "author__member_id",
        )[:CANDIDATE_CAP]
    )
    return [dict(row) for row in rows]


def _thread_key(row: Row) -> tuple[int, str]:
    return int(str(row["source_id"])), str(row["thread_external_id"] or row["parent_external_id"])


def _openers(keys: Iterable[tuple[int, str]]) -> dict[tuple[int, str], Row]:
    by_source: dict[int, set[str]] = defaultdict(set)
    for source_id, thread in keys:
        by_source[source_id].add(thread)
    wanted = Q(pk__in=[])
    for source_id, threads in by_source.items():
        wanted |= Q(source_id=source_id, external_id__in=sorted(threads))
    rows = Message.objects.filter(wanted).values(
        "id",
        "source_id",
        "source__name",
        "source__kind",
        "external_id",
        "kind",
        "title",
        "body",
        "url",
        "author_id",
        "author__member_id",
        "feedback_classification__kind",
    )
    return {(int(r["source_id"]), str(r["external_id"])): dict(r) for r in rows}


def _is_question(opener: Row) -> bool:
    if opener["kind"] == Message.Kind.QUESTION:
        return True
    if opener.get("feedback_classification__kind") == Classification.Kind.QUESTION:
        return True
    return "?" in str(opener.get("title") or "")


def _thread_messages(keys: Sequence[tuple[int, str]]) -> dict[tuple[int, str], list[Row]]:
    by_source: dict[int, set[str]] = defaultdict(set)
    for source_id, thread in keys:
        by_source[source_id].add(thread)
    wanted = Q(pk__in=[])
    for source_id, threads in by_source.items():
        wanted |= Q(source_id=source_id, thread_external_id__in=sorted(threads))
    rows = (
        Message.objects.filter(wanted)
        .exclude(author__is_bot=True)
        .order_by("created_at", "id")
        .values(
            "id",
            "source_id",
            "thread_external_id",
            "kind",
            "created_at",
            "url",
            "author_id",
            "author__member_id",
            "author__member__is_staff",
            "author__member__is_bot",
            "author__member__display_name",
            "author__display_name",
        )
    )
    grouped: dict[tuple[int, str], list[Row]] = defaultdict(list)
    for row in rows:
        if not row["author__member__is_bot"]:
            grouped[(int(row["source_id"]), str(row["thread_external_id"]))].append(dict(row))
    return grouped


def _answer_of(
    opener: Row,
    replies: list[Row],
    events: list[Row],
) -> tuple[str, Row] | None:
    """The strongest answer event of the period in this thread: (how, the answering message's row)."""
    asker = f"m{opener['author__member_id']}" if opener.get("author__member_id") else f"i{opener.get('author_id')}"
    by_id = {row["id"]: row for row in replies}
    found: list[tuple[str, Row]] = []
    for event in events:
        row = by_id.get(event["id"])
        if row is None:
            continue
        if row["kind"] == Message.Kind.ANSWER and _person(row) != asker:
            accepted = opener["source__kind"] in ACCEPTING_KINDS
            found.append(("accepted" if accepted else "answer", row))
        elif row["author__member__is_staff"] and _person(row) != asker:
            found.append(("staff", row))
        elif _person(row) == asker and THANKS.search(str(event.get("body") or "")):
            earlier = [r for r in replies if r["created_at"] < row["created_at"] and _person(r) != asker]
            if earlier:
                found.append(("thanked", earlier[-1]))
    if not found:
        return None
    return min(found, key=lambda pair: STRENGTH[pair[0]])


def _may_qualify(opener: Row, events: list[Row]) -> bool:
    if _is_question(opener):
        return True
    asker = _person(opener)
    return any(
        e["kind"] == Message.Kind.ANSWER or (_person(e) == asker and THANKS.search(str(e.get("body") or "")))
        for e in events
    )


def _similar_by_vectors(opener_ids: Sequence[int]) -> dict[int, int]:
    """Other question threads close to each first message, through the feedback vector index."""
    rows = list(
        Embedding.objects.filter(message_id__in=opener_ids, vector__isnull=False)
        .order_by("message_id", "-message_version")
        .values_list("message_id", "vector")
    )
    vectors: dict[int, np.ndarray] = {}
    for message_id, blob in rows:
        if message_id not in vectors and blob:
            vector = np.frombuffer(bytes(blob), dtype=np.float16).astype(np.float32)
            vectors[message_id] = vector / max(float(np.linalg.norm(vector)), 1e-12)
    if not vectors:
        return {}
    index = get_index()
    hits: dict[int, set[int]] = {}
    for message_id, vector in vectors.items():
        hits[message_id] = {key for key, sim in index.search(vector, NEIGHBOURS) if sim >= SIMILAR}
    keys = set().union(*hits.values())
    owners = dict(Embedding.objects.filter(pk__in=keys).values_list("pk", "message_id"))
    candidates = {owners[key] for key in keys if key in owners}
    openers = set(
        Message.objects.filter(pk__in=candidates, parent_external_id="")
        .filter(Q(thread_external_id="") | Q(thread_external_id=F("external_id")))
        .values_list("pk", flat=True)
    )
    return {
        message_id: len({owners[k] for k in found if k in owners and owners[k] in openers} - {message_id})
        for message_id, found in hits.items()
    }


def _similar_by_theme(opener_ids: Sequence[int]) -> dict[int, int]:
    """Without vectors: the other thread-opening messages of the theme each first message is in."""
    theme_of = dict(ThemeMessage.objects.filter(message_id__in=opener_ids).values_list("message_id", "theme_id"))
    if not theme_of:
        return {}
    counts: dict[int, int] = defaultdict(int)
    rows = (
        ThemeMessage.objects.filter(theme_id__in=set(theme_of.values()), message__parent_external_id="")
        .filter(Q(message__thread_external_id="") | Q(message__thread_external_id=F("message__external_id")))
        .values_list("theme_id", flat=True)
    )
    for theme_id in rows:
        counts[theme_id] += 1
    return {message_id: max(counts[theme_id] - 1, 0) for message_id, theme_id in theme_of.items()}


def answered_questions(*, low: dt.datetime, high: dt.datetime, limit: int = 5) -> list[AnsweredQuestion]:
    """Question threads answered in [low, high), most asked-again first, then most people (see the module doc)."""
    events = _events(low, high)
    by_thread: dict[tuple[int, str], list[Row]] = defaultdict(list)
    for event in events:
        by_thread[_thread_key(event)].append(event)
    # Only threads that can qualify are read whole: a question, or one with an answer or the asker's thanks.
    openers = {key: row for key, row in _openers(by_thread).items() if _may_qualify(row, by_thread[key])}
    if not openers:
        return []
    threads = _thread_messages(list(openers))
    answered: list[tuple[Row, str, Row, int]] = []
    for key, opener in openers.items():
        messages = threads.get(key, [])
        replies = [row for row in messages if row["id"] != opener["id"]]
        found = _answer_of(opener, replies, by_thread[key])
        # An accepted or thanked answer says the thread asked something, whatever its title says.
        if found is not None and (found[0] in ("accepted", "thanked") or _is_question(opener)):
            people = {_person(row) for row in messages} | {_person(opener)}
            answered.append((opener, found[0], found[1], len(people)))
    ids = [int(str(opener["id"])) for opener, *_ in answered]
    similar = _similar_by_theme(ids)
    similar.update(_similar_by_vectors(ids))
    rows = [
        AnsweredQuestion(
            message_id=int(str(opener["id"])),
            title=str(opener["title"] or "").strip() or str(opener["body"] or "").strip()[:120] or "(untitled)",
            excerpt=" ".join(str(opener["body"] or "").split())[:300],
            url=safe_url(str(opener["url"] or "")),
            source=str(opener["source__name"]),
            how=how,
            answered_by=_name(answer),
            answered_at=answer["created_at"],
            answer_url=safe_url(str(answer["url"] or "")),
            people=people,
            similar=similar.get(int(str(opener["id"])), 0),
        )
        for opener, how, answer, people in answered
    ]
    rows.sort(key=lambda q: (-q.similar, -q.people, STRENGTH[q.how], q.answered_at, q.message_id))
    return rows[:limit]
