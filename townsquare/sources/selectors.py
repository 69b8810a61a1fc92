from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Max, Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from townsquare.core import charts
from townsquare.core.sparklines import as_date
from townsquare.people.models import Member
from townsquare.sources.models import Message, Source, SyncError, SyncRun

MEMBER_MESSAGES_PAGE_SIZE = 30


def sources_with_health() -> Sequence[Source]:
    """Sources with their last run, message count and next scheduled run (a few queries, not one per row)."""
    from townsquare.core.scheduling import next_run

    last_run = SyncRun.objects.filter(source=OuterRef("pk")).order_by("-started_at", "-id").values("pk")[:1]
    rows = list(Source.objects.annotate(last_run_id=Subquery(last_run)))
    runs = SyncRun.objects.in_bulk([r.last_run_id for r in rows if r.last_run_id])
    errors = dict(SyncError.objects.filter(run_id__in=list(runs)).values_list("run_id").annotate(n=Count("id")))
    counts = dict(Message.objects.values_list("source_id").annotate(n=Count("id")).order_by())
    now = timezone.now()
    for row in rows:
        last = runs.get(row.last_run_id)
        row.last_run = last  # type: ignore[attr-defined]
        row.error_count = errors.get(row.last_run_id, 0)  # type: ignore[attr-defined]
        row.message_count = counts.get(row.pk, 0)  # type: ignore[attr-defined]
        row.next_run = None  # type: ignore[attr-defined]
        if row.enabled and row.schedule:
            after = last.started_at if last else now
            row.next_run = next_run(row.schedule, after)  # type: ignore[attr-defined]
    return rows


def messages_filtered(
    *,
    q: str = "",
    source: Source | None = None,
    kind: str = "",
    channel_id: int | None = None,
    since: dt.datetime | None = None,
) -> QuerySet[Message]:
    rows = Message.objects.filter(deleted_at__isnull=True).select_related("source", "channel", "author")
    rows = rows.defer("body_html")
    if source is not None:
        rows = rows.filter(source=source)
    if kind:
        rows = rows.filter(kind=kind)
    if channel_id:
        rows = rows.filter(channel_id=channel_id)
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    if q:
        rows = rows.filter(Q(title__icontains=q) | Q(body__icontains=q))
    return rows


def run_summary(run: SyncRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "status": run.status,
        "new": run.new,
        "updated": run.updated,
        "unchanged": run.unchanged,
        "rejected": run.rejected,
        "percent": run.percent,
    }


# ---------------------------------------------------------------- one member's messages (people sits below us)


def _identity_ids(member: Member) -> list[int]:
    # ``member.identities`` is prefetched by people's member_with_identities: no query here.
    return [i.pk for i in member.identities.all()]


def member_messages(*, member: Member) -> QuerySet[Message]:
    """The member's messages across channels, newest first (served by the message author index)."""
    return (
        Message.objects.filter(author_id__in=_identity_ids(member))
        .select_related("source", "channel", "author")
        .order_by("-created_at", "-id")
    )


def member_channel_counts(*, member: Member) -> list[dict[str, Any]]:
    """Per source the member wrote in: how many messages, and when they were first and last seen there."""
    rows = (
        Message.objects.filter(author_id__in=_identity_ids(member))
        .values("source__name", "source__kind")
        .annotate(n=Count("pk"), first=Min("created_at"), last=Max("created_at"))
        .order_by("-n")
    )
    return [dict(row) for row in rows]


ACTIVITY_MONTHS = 12


def member_monthly_activity(*, member: Member, now: dt.datetime | None = None) -> charts.Chart:
    """The member's messages per month over the last year, stacked by source: one grouped query."""
    today = timezone.localtime(now or timezone.now()).date()
    months = [_months_back(today.replace(day=1), back) for back in range(ACTIVITY_MONTHS - 1, -1, -1)]
    since = timezone.make_aware(dt.datetime.combine(months[0], dt.time.min))
    rows = (
        Message.objects.filter(author_id__in=_identity_ids(member), created_at__gte=since)
        .annotate(month=TruncMonth("created_at"))
        .order_by()
        .values_list("source__name", "month")
        .annotate(n=Count("pk"))
    )
    by_source: dict[str, dict[dt.date, int]] = defaultdict(dict)
    for source, month, n in rows:
        by_source[source][as_date(month)] = n
    ordered = sorted(by_source, key=lambda name: -sum(by_source[name].values()))
    total = sum(sum(counts.values()) for counts in by_source.values())
    summary = f"{total:,} message{'s' if total != 1 else ''} in the last {ACTIVITY_MONTHS} months" + (
        f", most on {ordered[0]}." if ordered else "."
    )
    series = [charts.Series(name, [by_source[name].get(m, 0) for m in months]) for name in ordered]
    return charts.bars(
        "Messages per month",
        [m.strftime("%b %Y") for m in months],
        series,
        stacked=True,
        summary=summary,
    )


def _months_back(first_of_month: dt.date, back: int) -> dt.date:
    index = first_of_month.year * 12 + first_of_month.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def member_messages_page(*, member: Member, page: str | int | None) -> tuple[Page, list[dict[str, Any]]]:
    """One page of the member's messages, and their counts per source.

    The counts add up to the page's total, so the member's messages are counted once (a busy
    member has thousands) instead of once for the pager and again per source.
    """
    counts = member_channel_counts(member=member)
    paginator = Paginator(member_messages(member=member), MEMBER_MESSAGES_PAGE_SIZE)
    paginator.count = sum(row["n"] for row in counts)
    return paginator.get_page(page), counts


def member_weekly_activity(*, member_ids: list[int], since: dt.datetime) -> dict[int, dict[dt.date, int]]:
    """Messages per member and week (the week's Monday) since ``since``, for the directory's sparklines."""
    rows = (
        Message.objects.filter(author__member_id__in=member_ids, created_at__gte=since)
        .annotate(week=TruncWeek("created_at"))
        .order_by()
        .values_list("author__member_id", "week")
        .annotate(n=Count("pk"))
    )
    activity: dict[int, dict[dt.date, int]] = defaultdict(dict)
    for member_id, week, n in rows:
        activity[member_id][as_date(week)] = n
    return dict(activity)


def member_message_counts(*, member_ids: list[int]) -> dict[int, int]:
    """Messages per member for a page of the people directory, in one query (people's hook asks us)."""
    return dict(
        Message.objects.filter(author__member_id__in=member_ids)
        .order_by()
        .values("author__member_id")
        .annotate(n=Count("pk"))
        .values_list("author__member_id", "n")
    )
