"""The compact activity table every health and channel-map figure is computed from.

Two aggregate queries read the messages table once each, whatever its size:

* activity: one row per (identity, source, calendar month) with the number of messages and the first and
  last message time in it. A million messages from 50,000 people fold into a few hundred thousand rows.
* first responses: one row per (thread opener, replying identity) with that identity's first reply time.

Everything after that is numpy over those rows: no per-member or per-thread query, so the cost grows
with the number of messages (one scan each) and the pages never touch the messages table.

Months are UTC calendar months (SQLite stores UTC text, and the same months on PostgreSQL keep the two
databases' figures identical). Month numbers count from 1970-01 (0).

The channel level is the **source** (a Slack workspace, a forum, a repository's issues): the level a
DevRel lead connects and retires. Rooms inside a source (``Message.channel``) are not split.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from django.db import connection

from townsquare.people.models import Account, Identity, Member
from townsquare.sources.models import Message, Source

# Who wrote a row. Staff and bots are kept apart from the community in every figure.
COMMUNITY, STAFF, BOT, UNKNOWN = 0, 1, 2, 3
# Kinds that wait for an answer even when the channel has no threads.
ASKING_KINDS = tuple(k.value for k in (Message.Kind.QUESTION, Message.Kind.ISSUE, Message.Kind.PULL_REQUEST))
# Openers listed when nobody answered them: a forum topic too, but not a chat thread's first line.
LISTED_KINDS = (*ASKING_KINDS, Message.Kind.POST.value)
DAY = 86_400

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Threads:
    """Thread openers (questions, issues, first posts of threads) and their first responses.

    A response is a message in the same thread by another person (not another identity of the author's
    member) who is not a bot; ``-1`` means none. Times are epoch seconds.
    """

    message_id: IntArray
    source: IntArray
    klass: IntArray  # the opener's author class
    listed: npt.NDArray[np.bool_]  # a question, issue, pull request or forum post: listed when unanswered
    created: IntArray
    month: IntArray
    first_any: IntArray
    first_community: IntArray
    first_staff: IntArray


@dataclass(frozen=True)
class Corpus:
    source_ids: list[int]  # source index -> Source.pk
    source_names: list[str]
    # activity rows
    person: IntArray  # member index, -1 when the message has no author
    klass: IntArray
    source: IntArray  # source index
    month: IntArray
    count: IntArray
    first: IntArray
    last: IntArray
    # per member index
    member_ids: IntArray
    person_class: IntArray
    org: IntArray  # organisation id, 0 when unaffiliated
    person_first: IntArray  # first contribution ever (any source; -1 = none)
    person_first_source: IntArray
    person_last: IntArray
    customer_orgs: dict[int, int]  # organisation id -> account id
    threads: Threads
    messages: int

    @property
    def months(self) -> tuple[int, int] | None:
        """First and last month with a message, or None for an empty workspace."""
        if not len(self.month):
            return None
        return int(self.month.min()), int(self.month.max())


def month_label(month: int) -> str:
    return f"{1970 + month // 12:04d}-{month % 12 + 1:02d}"


def month_parse(text: str) -> int:
    """``YYYY-MM`` -> month number; ValueError for anything else."""
    year, _, mon = text.partition("-")
    if len(year) != 4 or len(mon) != 2 or not (1 <= int(mon) <= 12):
        raise ValueError(f"not a month: {text!r}")
    return (int(year) - 1970) * 12 + int(mon) - 1


def month_start(month: int) -> dt.date:
    return dt.date(1970 + month // 12, month % 12 + 1, 1)


def epoch_months(epoch: IntArray) -> IntArray:
    return epoch.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)


def _sql() -> tuple[str, str]:
    """Month-number and epoch-seconds expressions for this database (SQLite stores UTC text)."""
    if connection.vendor == "sqlite":
        month = "((CAST(substr({c}, 1, 4) AS INTEGER) - 1970) * 12 + CAST(substr({c}, 6, 2) AS INTEGER) - 1)"
        return month, "CAST(strftime('%s', {c}) AS INTEGER)"
    if connection.vendor == "postgresql":
        month = (
            "((EXTRACT(YEAR FROM {c} AT TIME ZONE 'UTC')::int - 1970) * 12"
            " + EXTRACT(MONTH FROM {c} AT TIME ZONE 'UTC')::int - 1)"
        )
        return month, "EXTRACT(EPOCH FROM {c})::bigint"
    raise NotImplementedError(f"health metrics need SQLite or PostgreSQL, not {connection.vendor}")


def _rows(sql: str) -> list[tuple[object, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql)  # no parameters: every value inlined is one of our constants
        return cursor.fetchall()


def _ints(values: list[object], *, missing: int = -1) -> IntArray:
    return np.fromiter((missing if v is None else int(v) for v in values), dtype=np.int64, count=len(values))  # type: ignore[call-overload]


def corpus_load() -> Corpus:
    """Read the two aggregates and the people tables into arrays."""
    month_sql, epoch_sql = _sql()
    message = connection.ops.quote_name(Message._meta.db_table)
    sources = list(Source.objects.order_by("name").values_list("pk", "name"))
    source_index = {pk: i for i, (pk, _) in enumerate(sources)}

    # Member flags: staff is either the flag or a team; bots are excluded from every figure.
    members = list(Member.objects.values_list("pk", "is_staff", "is_bot", "team_id", "organization_id"))
    member_ids = np.array([m[0] for m in members], dtype=np.int64)
    member_index = {pk: i for i, pk in enumerate(member_ids.tolist())}
    person_class = np.array([BOT if m[2] else STAFF if (m[1] or m[3]) else COMMUNITY for m in members], dtype=np.int64)
    org = np.array([m[4] or 0 for m in members], dtype=np.int64)
    identities = np.array(list(Identity.objects.values_list("pk", "member_id", "is_bot")), dtype=np.int64)
    identities = identities.reshape(-1, 3)
    # Paying customers only: a free or trial account is a prospect, not revenue at risk.
    paying = Account.objects.filter(organization__isnull=False).exclude(tier=Account.Tier.FREE)
    customer_orgs = dict(paying.values_list("organization_id", "pk"))
    who = _Who(identities, member_index, person_class)
    activity = _rows(
        f"SELECT author_id, source_id, {month_sql.format(c='created_at')} AS month, COUNT(*),"
        f" {epoch_sql.format(c='MIN(created_at)')}, {epoch_sql.format(c='MAX(created_at)')}"
        f" FROM {message} GROUP BY author_id, source_id, month"
    )
    columns: list[tuple[object, ...]] = list(zip(*activity, strict=True)) if activity else [() for _ in range(6)]
    person, klass = who(_ints(list(columns[0])))
    source = _lookup(source_index, _ints(list(columns[1])))
    month, count, first, last = (_ints(list(c)) for c in columns[2:6])

    # First and last contribution ever, per person, from human rows (a bot identity's rows don't count).
    human = (person >= 0) & (klass != BOT)
    person_first = np.full(len(member_ids), -1, dtype=np.int64)
    person_first_source = np.full(len(member_ids), -1, dtype=np.int64)
    person_last = np.full(len(member_ids), -1, dtype=np.int64)
    if human.any():
        p, f, s, la = person[human], first[human], source[human], last[human]
        order = np.lexsort((f, p))  # by person, then first time: the first row per person is their first
        p_sorted = p[order]
        starts = np.flatnonzero(np.r_[True, p_sorted[1:] != p_sorted[:-1]])
        person_first[p_sorted[starts]] = f[order][starts]
        person_first_source[p_sorted[starts]] = s[order][starts]
        np.maximum.at(person_last, p, la)

    return Corpus(
        source_ids=[pk for pk, _ in sources],
        source_names=[name for _, name in sources],
        person=person,
        klass=klass,
        source=source,
        month=month,
        count=count,
        first=first,
        last=last,
        member_ids=member_ids,
        person_class=person_class,
        org=org,
        person_first=person_first,
        person_first_source=person_first_source,
        person_last=person_last,
        customer_orgs={int(k): int(v) for k, v in customer_orgs.items()},
        threads=_threads_load(message, epoch_sql, source_index, who),
        messages=int(count.sum()),
    )


class _Who:
    """Identity id -> (member index, row class), vectorised over a column of author ids (-1 = none)."""

    def __init__(self, identities: IntArray, member_index: dict[int, int], person_class: IntArray) -> None:
        top = int(identities[:, 0].max()) if len(identities) else 0
        self.top = top
        self.person = np.full(top + 1, -1, dtype=np.int64)
        self.klass = np.full(top + 1, UNKNOWN, dtype=np.int64)
        if len(identities):
            people = _lookup(member_index, identities[:, 1])
            self.person[identities[:, 0]] = people
            self.klass[identities[:, 0]] = np.where(identities[:, 2] == 1, BOT, person_class[people])

    def __call__(self, author_ids: IntArray) -> tuple[IntArray, IntArray]:
        known = (author_ids >= 0) & (author_ids <= self.top)
        at = np.where(known, author_ids, 0)
        return np.where(known, self.person[at], -1), np.where(known, self.klass[at], UNKNOWN)


def _lookup(index: dict[int, int], keys: IntArray) -> IntArray:
    """Map primary keys to positions through a sorted array (a dict lookup per row would be slow)."""
    if not len(keys):
        return np.zeros(0, dtype=np.int64)
    pks = np.fromiter(index.keys(), dtype=np.int64, count=len(index))
    positions = np.fromiter(index.values(), dtype=np.int64, count=len(index))
    order = np.argsort(pks)
    return positions[order][np.searchsorted(pks[order], keys)]


def _threads_load(message: str, epoch_sql: str, source_index: dict[int, int], who: _Who) -> Threads:
    """Openers and each replying identity's first reply, in one grouped self-join.

    An opener is the first message of a thread (its external id is the thread's) or a question, issue or
    pull request with no thread. Replies are the thread's other messages from the opener's time on; the
    served index is ``message_thread_idx`` (source, thread_external_id).
    """
    asking = ", ".join(f"'{k}'" for k in ASKING_KINDS)
    rows = _rows(
        f"SELECT o.id, o.source_id, o.author_id, o.kind, {epoch_sql.format(c='o.created_at')},"
        f" r.author_id, {epoch_sql.format(c='MIN(r.created_at)')}"
        f" FROM {message} o LEFT JOIN {message} r"
        f" ON r.source_id = o.source_id AND o.thread_external_id <> ''"
        f" AND r.thread_external_id = o.thread_external_id AND r.id <> o.id"
        f" AND r.created_at >= o.created_at AND r.author_id IS NOT NULL"
        f" WHERE o.external_id = o.thread_external_id OR (o.thread_external_id = '' AND o.kind IN ({asking}))"
        f" GROUP BY o.id, o.source_id, o.author_id, o.kind, o.created_at, r.author_id"
    )
    columns: list[tuple[object, ...]] = list(zip(*rows, strict=True)) if rows else [() for _ in range(7)]
    opener_ids = _ints(list(columns[0]))
    # Rows come grouped per opener: number the openers and keep one row of their own fields each.
    uniq, index, inverse = np.unique(opener_ids, return_index=True, return_inverse=True)
    o_person, o_class = who(_ints(list(columns[2]))[index])
    r_person, r_class = who(_ints(list(columns[5])))
    r_time = _ints(list(columns[6]))
    created = _ints(list(columns[4]))[index]
    # A response is another person's, never the author's own (any of their identities), and not a bot's.
    valid = (r_time >= 0) & (r_class != BOT) & ((r_person != o_person[inverse]) | (r_person < 0))
    firsts = []
    for mask in (valid, valid & (r_class != STAFF), valid & (r_class == STAFF)):
        best = np.full(len(uniq), np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(best, inverse[mask], r_time[mask])
        firsts.append(np.where(best == np.iinfo(np.int64).max, -1, best))
    return Threads(
        message_id=uniq,
        source=_lookup(source_index, _ints(list(columns[1]))[index]),
        klass=o_class,
        listed=np.isin(np.array(columns[3], dtype=object)[index], LISTED_KINDS) if len(index) else np.zeros(0, bool),
        created=created,
        month=epoch_months(created),
        first_any=firsts[0],
        first_community=firsts[1],
        first_staff=firsts[2],
    )
