from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from townsquare.feedback.models import (
    Classification,
    CurationAction,
    Proposal,
    ScoreWeights,
    Theme,
    ThemeFacet,
    ThemeMessage,
)
from townsquare.people.models import Account, Member
from townsquare.sources.models import Message

PAYING_TIERS = ("enterprise", "business", "team", "startup")
# Recency never falls below this: past a few half-lives of silence, themes (an imported history) still rank
# among themselves by people, customers and channels, below every recent theme, instead of all scoring 0.
RECENCY_FLOOR = 0.05
FORMULA = (
    "score = (person × people + Σ tier weight of each paying customer account + revenue × log10(1 + revenue / 10,000))"
    " × (1 + channel × (channels − 1)) × max(0.5^(days since last seen / half-life), 0.05)"
    " × (1 + trend × clamp((people this week − people last week) / max(people last week, 1), −1, 1))"
)


@dataclass
class ThemeStats:
    messages: int = 0
    people: int = 0
    staff_or_bot_messages: int = 0
    customers: int = 0
    customers_by_tier: dict[str, int] = field(default_factory=dict)
    revenue: float = 0.0
    channels: int = 0
    channel_names: list[str] = field(default_factory=list)
    people_this_week: int = 0
    people_last_week: int = 0
    first_seen: dt.datetime | None = None
    last_seen: dt.datetime | None = None

    @property
    def trend(self) -> float:
        return (self.people_this_week - self.people_last_week) / max(self.people_last_week, 1)


def score_weights_get() -> ScoreWeights:
    weights = ScoreWeights.objects.order_by("pk").first()
    return weights if weights is not None else ScoreWeights()


def theme_messages(theme: Theme) -> QuerySet[ThemeMessage]:
    return ThemeMessage.objects.filter(theme=theme).select_related(
        "message__channel",
        "message__source",
        "message__author__member__organization__account",
        "message__feedback_classification",
    )


@dataclass(frozen=True)
class Fact:
    """What the counts need of one theme message, without its text."""

    created_at: dt.datetime
    person: int | None  # the member who wrote it; None when staff, a bot or unknown (kept, not counted)
    channel: tuple[int, str]  # (key, name): the channel, or the source when the message has none
    account: tuple[int, str, float] | None  # the author's paying customer account: (id, tier, revenue)


# The columns ``theme_stats`` reads per theme message, in ``_fact`` order after the theme id.
_FACT_COLUMNS = (
    "theme_id",
    "message__created_at",
    "message__author_id",
    "message__author__is_bot",
    "message__author__member_id",
    "message__author__member__is_staff",
    "message__author__member__is_bot",
    "message__channel_id",
    "message__channel__name",
    "message__source_id",
    "message__source__name",
    "message__author__member__organization__account__id",
    "message__author__member__organization__account__tier",
    "message__author__member__organization__account__annual_revenue",
)


def _fact(
    created_at: dt.datetime,
    identity: int | None,
    identity_bot: bool | None,
    member: int | None,
    staff: bool | None,
    member_bot: bool | None,
    channel: int | None,
    channel_name: str | None,
    source: int,
    source_name: str,
    account: int | None,
    tier: str | None,
    revenue: Decimal | int | None,
) -> Fact:
    # The columns are nullable because they come through outer joins; a channel always has a name and an
    # account a revenue, so the fallbacks below only satisfy the types.
    person = None if identity is None or member is None or staff or member_bot or identity_bot else member
    key = (channel, channel_name or "") if channel is not None else (-source, source_name)
    paying = (
        (account, tier, float(revenue or 0))
        if account is not None and tier is not None and tier in PAYING_TIERS
        else None
    )
    return Fact(created_at, person, key, paying)


def _fact_of(row: ThemeMessage) -> Fact:
    message = row.message
    identity = message.author
    member = identity.member if identity is not None else None
    organization = member.organization if member is not None else None
    account = getattr(organization, "account", None) if organization is not None else None
    return _fact(
        message.created_at,
        message.author_id,
        identity is not None and identity.is_bot,
        member.pk if member is not None else None,
        member is not None and member.is_staff,
        member is not None and member.is_bot,
        message.channel_id,
        str(message.channel) if message.channel_id else "",
        message.source_id,
        str(message.source),
        account.pk if account is not None else None,
        account.tier if account is not None else "",
        account.annual_revenue if account is not None else 0,
    )


def stats_for(assignments: list[ThemeMessage], *, now: dt.datetime | None = None) -> ThemeStats:
    """Counts over a theme's messages: distinct people (not messages), staff and bots excluded but kept."""
    return stats_of([_fact_of(row) for row in assignments], now=now)


def theme_stats(theme_ids: list[int], *, now: dt.datetime | None = None) -> dict[int, ThemeStats]:
    """``stats_for`` of many themes from one lean query (no message text, no model instances).

    A theme refresh at scale reads tens of thousands of rows per big theme; this is what it reads.
    """
    facts: dict[int, list[Fact]] = {pk: [] for pk in theme_ids}
    rows = ThemeMessage.objects.filter(theme_id__in=theme_ids).values_list(*_FACT_COLUMNS)
    for theme_id, *columns in rows.iterator(chunk_size=10_000):
        facts[theme_id].append(_fact(*columns))
    return {pk: stats_of(found, now=now) for pk, found in facts.items()}


@dataclass
class RefreshRead:
    """What a theme refresh reads of its themes' messages, in one pass: their counts and their facets."""

    stats: dict[int, ThemeStats]
    facets: list[ThemeFacet]


def theme_refresh_read(theme_ids: list[int], *, now: dt.datetime | None = None) -> RefreshRead:
    """``theme_stats`` and ``theme_facets`` of these themes from one lean read of their messages.

    The facets come from the same rows the counts do, so a refresh reads each theme message once.
    """
    now = now or timezone.now()
    facts: dict[int, list[Fact]] = {pk: [] for pk in theme_ids}
    facets: dict[tuple[int, str, bool, int, str], list[Any]] = {}
    columns = (*_FACT_COLUMNS, "message__feedback_classification__kind", "message__feedback_classification__docs_gap")
    rows = ThemeMessage.objects.filter(theme_id__in=theme_ids).values_list(*columns)
    for theme_id, *fact_columns, kind, docs_gap in rows.iterator(chunk_size=10_000):
        fact = _fact(*fact_columns)
        facts[theme_id].append(fact)
        created_at, source, tier = fact_columns[0], fact_columns[8], fact_columns[11]
        key = (theme_id, kind or "", bool(docs_gap), source, tier or "")
        found = facets.get(key)
        if found is None:
            facets[key] = [created_at, created_at, 1]
        else:
            found[0], found[1], found[2] = min(found[0], created_at), max(found[1], created_at), found[2] + 1
    stats = {pk: stats_of(found, now=now) for pk, found in facts.items()}
    return RefreshRead(
        stats=stats,
        facets=[
            ThemeFacet(
                theme_id=theme_id,
                kind=kind,
                docs_gap=docs_gap,
                source_id=source,
                tier=tier,
                first_at=first,
                last_at=last,
                messages=n,
            )
            for (theme_id, kind, docs_gap, source, tier), (first, last, n) in facets.items()
        ],
    )


def theme_facets(theme_ids: list[int]) -> list[ThemeFacet]:
    """The (kind, docs gap, source, tier) combinations of these themes' messages, unsaved: one grouped query."""
    account = "message__author__member__organization__account"
    rows = (
        ThemeMessage.objects.filter(theme_id__in=theme_ids)
        .values_list(
            "theme_id",
            "message__feedback_classification__kind",
            "message__feedback_classification__docs_gap",
            "message__source_id",
            f"{account}__tier",
        )
        .annotate(first=Min("message__created_at"), last=Max("message__created_at"), n=Count("id"))
        .order_by()
    )
    return [
        ThemeFacet(
            theme_id=theme_id,
            kind=kind or "",
            docs_gap=bool(docs_gap),
            source_id=source_id,
            tier=tier or "",
            first_at=first,
            last_at=last,
            messages=n,
        )
        for theme_id, kind, docs_gap, source_id, tier, first, last, n in rows
    ]


def stats_of(facts: list[Fact], *, now: dt.datetime | None = None) -> ThemeStats:
    now = now or timezone.now()
    stats = ThemeStats(messages=len(facts))
    people: set[int] = set()
    this_week: set[int] = set()
    last_week: set[int] = set()
    accounts: dict[int, tuple[str, float]] = {}
    channels: dict[int, str] = {}
    if facts:
        stats.first_seen = min(fact.created_at for fact in facts)
        stats.last_seen = max(fact.created_at for fact in facts)
    for fact in facts:
        if fact.person is None:
            stats.staff_or_bot_messages += 1
            continue
        people.add(fact.person)
        age = now - fact.created_at
        if age <= dt.timedelta(days=7):
            this_week.add(fact.person)
        elif age <= dt.timedelta(days=14):
            last_week.add(fact.person)
        channels[fact.channel[0]] = fact.channel[1]
        if fact.account is not None:
            accounts[fact.account[0]] = fact.account[1:]
    stats.people = len(people)
    stats.people_this_week = len(this_week)
    stats.people_last_week = len(last_week)
    stats.customers = len(accounts)
    stats.customers_by_tier = dict(Counter(tier for tier, _ in accounts.values()))
    stats.revenue = sum(revenue for _, revenue in accounts.values())
    stats.channels = len(channels)
    stats.channel_names = sorted(channels.values())
    return stats


def score_parts(stats: ThemeStats, weights: ScoreWeights, *, now: dt.datetime | None = None) -> dict[str, float]:
    """The score and its factors, recency read at ``now``; it never falls below ``RECENCY_FLOOR``."""
    now = now or timezone.now()
    customers = sum(weights.tier_weight(tier) * n for tier, n in stats.customers_by_tier.items())
    revenue = weights.revenue * math.log10(1 + stats.revenue / 10_000)
    base = weights.person * stats.people + customers + revenue
    channel_factor = 1 + weights.channel * max(stats.channels - 1, 0)
    days = (now - stats.last_seen).total_seconds() / 86400 if stats.last_seen else 0.0
    recency = 0.5 ** (max(days, 0.0) / weights.half_life_days) if weights.half_life_days > 0 else 1.0
    recency = max(recency, RECENCY_FLOOR)
    trend_factor = 1 + weights.trend * max(-1.0, min(1.0, stats.trend))
    return {
        "people": round(weights.person * stats.people, 3),
        "customers": round(customers, 3),
        "revenue": round(revenue, 3),
        "channel_factor": round(channel_factor, 3),
        "recency": round(recency, 3),
        "trend_factor": round(trend_factor, 3),
        "score": round(base * channel_factor * recency * trend_factor, 3),
    }


def theme_get(pk: int) -> Theme:
    theme = Theme.objects.select_related("department", "merged_into").filter(pk=pk).first()
    if theme is None:
        raise Http404("No such theme.")
    return theme


def theme_quotes(rows: list[ThemeMessage], *, limit: int = 5) -> list[ThemeMessage]:
    """Representative quotes: the messages closest to the theme's centre, from counted people first.

    ``rows`` are the theme's loaded messages (``theme_messages``): the theme page reads them once.
    """
    closest = sorted(rows, key=lambda r: (-r.similarity, -r.message.created_at.timestamp()))[: limit * 4]
    counted = [
        r for r in closest if r.message.author and r.message.author.member and not r.message.author.member.is_staff
    ]
    return (counted + [r for r in closest if r not in counted])[:limit]


def theme_threads(rows: list[ThemeMessage]) -> list[dict[str, object]]:
    """The theme's distinct threads across channels (the same question asked on several), from loaded rows."""
    seen: dict[tuple[int, str], dict[str, object]] = {}
    for row in sorted(rows, key=lambda r: r.message.created_at):
        message = row.message
        key = (message.source_id, message.thread_external_id or message.external_id)
        if key not in seen:
            seen[key] = {"message": message, "channel": message.channel or message.source, "replies": 0}
        else:
            seen[key]["replies"] = int(seen[key]["replies"]) + 1  # type: ignore[call-overload]
    return list(seen.values())


def theme_actions(theme: Theme, *, limit: int = 30) -> QuerySet[CurationAction]:
    return CurationAction.objects.filter(theme=theme).select_related("by")[:limit]


def proposals_open() -> QuerySet[Proposal]:
    return Proposal.objects.filter(status=Proposal.Status.OPEN)


def message_search(query: str, *, limit: int = 50) -> QuerySet[Message]:
    """Full-text search across all channels (case-insensitive words, all must match)."""
    qs = Message.objects.select_related("channel", "source", "author", "feedback_assignment__theme")
    for word in query.split()[:8]:
        qs = qs.filter(Q(title__icontains=word) | Q(body__icontains=word))
    return qs.order_by("-created_at")[:limit]


def classification_counts() -> dict[str, int]:
    return dict(Counter(Classification.objects.values_list("kind", flat=True)))


# ---------------------------------------------------------------------------------------------------------------
# The inbox: filters, the Live view, ranking within a period, pagination and export.

# A curator's touch that makes a single report worth a place in the Live view.
CURATED_ACTIONS = (
    CurationAction.Action.RENAME,
    CurationAction.Action.ANNOTATE,
    CurationAction.Action.ROUTE,
    CurationAction.Action.MERGE,
)
DOCS_GAP = "docs_gap"  # the kind filter's extra value: questions that reveal a documentation gap
# The inbox's sortable columns: the name in the URL and the stored column it sorts on.
SORTS = {
    "score": "score",
    "people": "people_count",
    "customers": "customer_count",
    "messages": "message_count",
    "last_seen": "last_seen",
}


class View:
    LIVE = "live"  # two distinct people, a paying customer, or a curator's touch
    SINGLE = "single"  # the rest: one person, no customer, untouched; listed apart, never hidden
    ALL = "all"


@dataclass(frozen=True)
class InboxFilters:
    view: str = View.LIVE
    status: str = ""
    kind: str = ""
    source_id: int | None = None
    department_id: int | None = None
    tier: str = ""
    since: dt.date | None = None
    until: dt.date | None = None  # inclusive; its end is the "now" of recency and trend
    sort: str = "score"
    descending: bool = True

    @property
    def period(self) -> tuple[dt.datetime, dt.datetime] | None:
        """The half-open [start, end) of the date filter, or None when the inbox looks at all time."""
        if self.since is None and self.until is None:
            return None
        zone = timezone.get_current_timezone()
        start = dt.datetime.combine(self.since or dt.date(1970, 1, 1), dt.time.min, tzinfo=zone)
        end = (
            dt.datetime.combine(self.until + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
            if self.until is not None
            else timezone.now()
        )
        return start, end


@dataclass
class InboxRow:
    """One inbox line: the theme and the figures it is ranked by (stored, or of the period looked at)."""

    theme_id: int
    score: float
    people: int
    customers: int
    channels: int
    messages: int
    last_seen: dt.datetime | None
    parts: dict[str, float] = field(default_factory=dict)
    theme: Theme | None = None

    @property
    def title(self) -> str:
        return self.theme.title if self.theme is not None else f"#{self.theme_id}"

    @property
    def formula(self) -> str:
        """The score multiplied out, as the theme page shows it (one string: 50 rows of six filters cost 30 ms)."""
        p = self.parts
        if p.get("score") is None:
            return ""
        return (
            f"(people {p['people']:.1f} + customers {p['customers']:.1f} + revenue {p['revenue']:.1f})"
            f" × channels {p['channel_factor']:.2f} × recency {p['recency']:.2f} × trend {p['trend_factor']:.2f}"
            f" = {p['score']:.1f}"
        )


def _curated_q() -> Q:
    touched = CurationAction.objects.filter(theme_id=OuterRef("pk"), action__in=CURATED_ACTIONS)
    return Q(people_count__gte=2) | Q(customer_count__gte=1) | Q(Exists(touched))


def _facet_q(filters: InboxFilters) -> Q | None:
    """The stored facet rows that meet the kind, channel and tier filters together, or None when none is set."""
    q = Q()
    if filters.kind == DOCS_GAP:
        q &= Q(docs_gap=True)
    elif filters.kind:
        q &= Q(kind=filters.kind)
    if filters.source_id:
        q &= Q(source_id=filters.source_id)
    if filters.tier:
        q &= Q(tier=filters.tier)
    return q if q else None


def inbox_themes(filters: InboxFilters) -> QuerySet[Theme]:
    """The themes the filters select (not yet ranked), as one query on the themes and their stored facets.

    Kind, channel and customer tier are one semi-join on ``ThemeFacet``, so combined they ask for one
    message that meets them all ("a feature request from an enterprise customer on Slack"). With a date
    filter the facets only narrow to the themes that may have such a message in the period; which really
    have one is counted from the period's messages in ``period_rows``. The Live view reads the theme's
    stored counts (all time): a theme is shared or not whatever period is looked at.
    """
    qs = Theme.objects.all()
    if filters.status:
        qs = qs.filter(status=filters.status)
    else:
        qs = qs.exclude(status__in=[Theme.Status.MERGED, Theme.Status.ARCHIVED])
    if filters.view == View.LIVE:
        qs = qs.filter(_curated_q())
    elif filters.view == View.SINGLE:
        qs = qs.exclude(_curated_q())
    if filters.department_id:
        qs = qs.filter(department_id=filters.department_id)
    facets = _facet_q(filters)
    period = filters.period
    if period is not None:
        facets = (facets or Q()) & Q(first_at__lt=period[1], last_at__gte=period[0])
    if facets is not None:
        qs = qs.filter(pk__in=ThemeFacet.objects.filter(facets).values("theme_id"))
    return qs


def _message_q(filters: InboxFilters) -> Q | None:
    """The kind, channel and tier filters on a theme message, for counting the period's matches."""
    q = Q()
    if filters.kind == DOCS_GAP:
        q &= Q(message__feedback_classification__docs_gap=True)
    elif filters.kind:
        q &= Q(message__feedback_classification__kind=filters.kind)
    if filters.source_id:
        q &= Q(message__source_id=filters.source_id)
    if filters.tier:
        q &= Q(message__author__member__organization__account__tier=filters.tier)
    return q if q else None


def _stored_order(filters: InboxFilters) -> list[str]:
    column = SORTS.get(filters.sort, "score")
    sign = "-" if filters.descending else ""
    return [f"{sign}{column}", f"{sign}people_count", "-id"]


def inbox_rows(filters: InboxFilters) -> tuple[QuerySet[Theme], None] | tuple[None, list[InboxRow]]:
    """The ranked inbox: a sorted queryset of stored figures, or (with a date filter) rows ranked in the period.

    A period's ranking is computed here from the period's messages, with the period's end as "now", so an
    imported history ranks by people, customers and channels rather than by an all-zero recency term.
    """
    themes = inbox_themes(filters)
    if filters.period is None:
        return themes.select_related("department").order_by(*_stored_order(filters)), None
    rows = period_rows(themes, filters)
    key = {
        "score": lambda r: r.score,
        "people": lambda r: r.people,
        "customers": lambda r: r.customers,
        "messages": lambda r: r.messages,
        "last_seen": lambda r: r.last_seen.timestamp() if r.last_seen else 0.0,
    }.get(filters.sort, lambda r: r.score)
    sign = -1 if filters.descending else 1
    rows.sort(key=lambda r: (sign * key(r), -r.people, -r.theme_id))
    return None, rows


def _counted() -> Q:
    """A message written by a counted person: a member who is neither staff nor a bot (as ``_fact`` reads it)."""
    return (
        Q(message__author__isnull=False, message__author__member__isnull=False)
        & Q(message__author__is_bot=False)
        & Q(message__author__member__is_staff=False, message__author__member__is_bot=False)
    )


# Above this many theme ids a period query reads every selected theme rather than an IN list of them.
STRADDLING_IN_LIST = 2000


def period_rows(themes: QuerySet[Theme], filters: InboxFilters) -> list[InboxRow]:
    """Each selected theme's counts and score over the period's messages, with the period's end as "now".

    A theme whose stored facets all fall inside the period has every message in it, so its period counts
    are its stored counts (written with the facets by the same refresh): only its people of the last two
    weeks are counted again. The others ("straddling") are counted from the period's messages. Either way
    a few grouped queries, none per theme.
    """
    period = filters.period
    assert period is not None
    start, end = period
    weights = score_weights_get()
    # The selected ids first (at most a few thousand), then the period's messages grouped by theme with no
    # theme subquery inside: nested in the aggregate, the selection's own semi-joins made PostgreSQL pick
    # nested loops over the whole period (minutes at 200,000 messages); apart, each is one scan.
    selected = set(themes.values_list("pk", flat=True))
    if not selected:
        return []
    outside = ThemeFacet.objects.filter(Q(first_at__lt=start) | Q(last_at__gte=end)).values_list("theme_id", flat=True)
    straddling = selected & set(outside.distinct().order_by())
    candidates = selected - straddling
    # Stored figures only for the themes wholly inside (a recent period has few): their JSON costs per row.
    stored = (
        themes.filter(pk__in=sorted(candidates)) if len(candidates) <= STRADDLING_IN_LIST else themes
    ).values_list("pk", *_STORED_STATS)
    # a theme refreshed before the revenue sum was stored is counted from the messages
    inside = {row[0]: row for row in stored if row[0] in candidates and "revenue_sum" in row[-1]} if candidates else {}
    straddling = selected - set(inside)
    rows = [_period_row(stats, theme_id, weights, end) for theme_id, stats in _inside_stats(inside, end).items()]
    if straddling:
        rows += [
            _period_row(stats, theme_id, weights, end)
            for theme_id, stats in _period_stats(straddling, filters, start, end).items()
        ]
    return rows


_STORED_STATS = (
    "message_count", "people_count", "customer_count", "channel_count", "first_seen", "last_seen", "score_parts",
)  # fmt: skip


def _period_row(stats: ThemeStats, theme_id: int, weights: ScoreWeights, end: dt.datetime) -> InboxRow:
    parts = score_parts(stats, weights, now=end)
    return InboxRow(
        theme_id=theme_id,
        score=parts["score"],
        people=stats.people,
        customers=stats.customers,
        channels=stats.channels,
        messages=stats.messages,
        last_seen=stats.last_seen,
        parts=parts,
    )


def _weeks(end: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    return end - dt.timedelta(days=7), end - dt.timedelta(days=14)


def _inside_stats(themes: dict[int, tuple[Any, ...]], end: dt.datetime) -> dict[int, ThemeStats]:
    """Stored counts of themes wholly inside the period, with their people this week and last, as of ``end``."""
    if not themes:
        return {}
    week, fortnight = _weeks(end)
    person, counted = "message__author__member_id", _counted()
    recent = ThemeMessage.objects.filter(message__created_at__gte=fortnight, message__created_at__lt=end)
    if len(themes) <= STRADDLING_IN_LIST:
        recent = recent.filter(theme_id__in=list(themes))
    weeks: dict[int, dict[str, int]] = {
        row["theme_id"]: {"this_week": row["this_week"], "last_week": row["last_week"]}
        for row in recent.values("theme_id")
        .annotate(
            this_week=Count(person, distinct=True, filter=counted & Q(message__created_at__gte=week)),
            last_week=Count(person, distinct=True, filter=counted & Q(message__created_at__lt=week)),
        )
        .order_by()
    }
    found = {}
    for pk, (_pk, messages, people, customers, channels, first_seen, last_seen, parts) in themes.items():
        recent_people: dict[str, int] = weeks.get(pk, {})
        found[pk] = ThemeStats(
            messages=messages,
            people=people,
            customers=customers,
            customers_by_tier=dict(parts.get("customers_by_tier") or {}),
            revenue=float(parts["revenue_sum"]),
            channels=channels,
            people_this_week=recent_people.get("this_week", 0),
            people_last_week=recent_people.get("last_week", 0),
            first_seen=first_seen,
            last_seen=last_seen,
        )
    return found


def _period_stats(
    theme_ids: set[int], filters: InboxFilters, start: dt.datetime, end: dt.datetime
) -> dict[int, ThemeStats]:
    """Counts of these themes over the period's messages, for those with a message meeting the filters."""
    members = ThemeMessage.objects.filter(message__created_at__gte=start, message__created_at__lt=end)
    if len(theme_ids) <= STRADDLING_IN_LIST:
        members = members.filter(theme_id__in=sorted(theme_ids))
    counted = _counted()
    person = "message__author__member_id"
    account = "message__author__member__organization__account"
    week, fortnight = _weeks(end)
    tiers = {
        tier: Count(f"{account}__id", distinct=True, filter=counted & Q(**{f"{account}__tier": tier}))
        for tier in PAYING_TIERS
    }
    # A theme is selected when one of the period's messages meets the kind, channel and tier filters.
    matching = _message_q(filters)
    extra = {"n_matching": Count("id", filter=matching)} if matching is not None else {}
    aggregates = (
        members.values("theme_id")
        .annotate(
            n_messages=Count("id"),
            n_people=Count(person, distinct=True, filter=counted),
            n_channels=Count(Coalesce("message__channel_id", -F("message__source_id")), distinct=True, filter=counted),
            n_this_week=Count(person, distinct=True, filter=counted & Q(message__created_at__gte=week)),
            n_last_week=Count(
                person,
                distinct=True,
                filter=counted & Q(message__created_at__gte=fortnight, message__created_at__lt=week),
            ),
            first=Min("message__created_at"),
            last=Max("message__created_at"),
            **{f"tier_{tier}": expr for tier, expr in tiers.items()},
            **extra,
        )
        .order_by()
    )
    revenue: dict[int, float] = {}
    paying = (
        members.filter(counted, **{f"{account}__tier__in": PAYING_TIERS})
        .values_list("theme_id", f"{account}__id", f"{account}__annual_revenue")
        .distinct()
        .order_by()
    )
    for theme_id, _account_id, amount in paying:
        if theme_id in theme_ids:
            revenue[theme_id] = revenue.get(theme_id, 0.0) + float(amount or 0)
    found = {}
    for row in aggregates:
        agg: dict[str, Any] = dict(row)
        if agg["theme_id"] not in theme_ids or agg.get("n_matching") == 0:
            continue
        by_tier = {tier: agg[f"tier_{tier}"] for tier in PAYING_TIERS if agg[f"tier_{tier}"]}
        found[agg["theme_id"]] = ThemeStats(
            messages=agg["n_messages"],
            people=agg["n_people"],
            customers=sum(by_tier.values()),
            customers_by_tier=by_tier,
            revenue=revenue.get(agg["theme_id"], 0.0),
            channels=agg["n_channels"],
            people_this_week=agg["n_this_week"],
            people_last_week=agg["n_last_week"],
            first_seen=agg["first"],
            last_seen=agg["last"],
        )
    return found


def stored_row(theme: Theme) -> InboxRow:
    return InboxRow(
        theme_id=theme.pk,
        score=theme.score,
        people=theme.people_count,
        customers=theme.customer_count,
        channels=theme.channel_count,
        messages=theme.message_count,
        last_seen=theme.last_seen,
        parts=theme.score_parts,
        theme=theme,
    )


def rows_with_themes(rows: list[InboxRow]) -> list[InboxRow]:
    """Attach the Theme (and department) to period rows in one query."""
    found = Theme.objects.select_related("department").in_bulk([r.theme_id for r in rows])
    for row in rows:
        row.theme = found.get(row.theme_id)
    return [r for r in rows if r.theme is not None]


def theme_search(query: str, *, exclude: int | None = None, limit: int = 15) -> QuerySet[Theme]:
    """Live themes whose title holds every word of ``query``, best-scored first (the move and merge pickers)."""
    qs = Theme.objects.exclude(status__in=[Theme.Status.MERGED, Theme.Status.ARCHIVED])
    words = query.split()[:6]
    if query.strip().lstrip("#").isdigit():
        qs = qs.filter(pk=int(query.strip().lstrip("#")))
    else:
        for word in words:
            qs = qs.filter(title__icontains=word)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return qs.order_by("-score", "-id")[:limit]


@dataclass
class AffectedPerson:
    member: Member
    messages: int = 0


@dataclass
class AffectedCustomer:
    account: Account
    people: set[int] = field(default_factory=set)

    @property
    def paying(self) -> bool:
        return self.account.tier in PAYING_TIERS


def theme_affected(rows: list[ThemeMessage]) -> tuple[list[AffectedPerson], list[AffectedCustomer]]:
    """Counted people (by messages) and their customer accounts (paying first, by revenue), from loaded rows."""
    people: dict[int, AffectedPerson] = {}
    customers: dict[int, AffectedCustomer] = {}
    for row in rows:
        identity = row.message.author
        member = identity.member if identity is not None else None
        if identity is None or member is None or member.is_staff or member.is_bot or identity.is_bot:
            continue
        people.setdefault(member.pk, AffectedPerson(member)).messages += 1
        organization = member.organization
        account = getattr(organization, "account", None) if organization is not None else None
        if account is not None:
            customers.setdefault(account.pk, AffectedCustomer(account)).people.add(member.pk)
    listed = sorted(people.values(), key=lambda p: (-p.messages, str(p.member)))
    accounts = sorted(customers.values(), key=lambda c: (not c.paying, -float(c.account.annual_revenue)))
    return listed, accounts


def member_themes(*, member_id: int, limit: int = 20) -> list[dict[str, Any]]:
    """The themes a community member's messages are in, most of their messages first: for their member page."""
    rows = (
        ThemeMessage.objects.filter(message__author__member_id=member_id)
        .exclude(theme__status=Theme.Status.MERGED)
        .values("theme_id", "theme__title", "theme__status", "theme__people_count", "theme__last_seen")
        .annotate(theirs=Count("pk"))
        .order_by("-theirs", "-theme__last_seen", "theme_id")[:limit]
    )
    labels = dict(Theme.Status.choices)
    return [
        {
            "pk": row["theme_id"],
            "title": row["theme__title"],
            "status": labels.get(row["theme__status"], row["theme__status"]),
            "people": row["theme__people_count"],
            "last_seen": row["theme__last_seen"],
            "theirs": row["theirs"],
        }
        for row in rows
    ]
