from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from townsquare.sources.models import Message, Source, SyncError, SyncRun


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
    rows = Message.objects.select_related("source", "channel", "author").defer("body_html")
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
