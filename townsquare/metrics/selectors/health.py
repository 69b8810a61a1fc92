"""Reads for the Value pages: the latest snapshot and what its figures point at (one query each)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from townsquare.metrics.models import ChannelMap, ConsolidationScenario, HealthFigures, HealthSnapshot
from townsquare.people.models import Account, Organization
from townsquare.sources.models import Message, Source

STALE_AFTER = dt.timedelta(hours=2)  # a queued or running snapshot older than this is taken for dead


def snapshot_latest() -> HealthSnapshot | None:
    return HealthSnapshot.objects.filter(status=HealthSnapshot.Status.SUCCEEDED).order_by("-finished_at", "-id").first()


def snapshot_pending() -> HealthSnapshot | None:
    """A queued or running recompute, if there is one (the page says so instead of offering another)."""
    return HealthSnapshot.objects.filter(
        status__in=[HealthSnapshot.Status.QUEUED, HealthSnapshot.Status.RUNNING],
        created_at__gte=timezone.now() - STALE_AFTER,
    ).first()


def snapshot_failed_since(snapshot: HealthSnapshot | None) -> HealthSnapshot | None:
    """The newest failed recompute after the shown snapshot: the page says it failed and why."""
    failed = HealthSnapshot.objects.filter(status=HealthSnapshot.Status.FAILED)
    if snapshot is not None and snapshot.finished_at:
        failed = failed.filter(created_at__gt=snapshot.finished_at)
    return failed.order_by("-created_at").first()


def health_figures_for(*, snapshot: HealthSnapshot, source: Source | None) -> dict[str, Any] | None:
    row = HealthFigures.objects.filter(snapshot=snapshot, source=source).values_list("data", flat=True).first()
    return row


def channel_map_for(*, snapshot: HealthSnapshot, window: str) -> dict[str, Any] | None:
    return ChannelMap.objects.filter(snapshot=snapshot, window=window).values_list("data", flat=True).first()


def sources_all() -> list[Source]:
    return list(Source.objects.only("pk", "name").order_by("name"))  # no secrets to decrypt


def messages_in_order(ids: Iterable[int]) -> list[Message]:
    """The listed messages, in the given order; erased or deleted ones are simply gone."""
    wanted = list(ids)
    found = (
        Message.objects.filter(pk__in=wanted)
        .select_related("source")
        .only("pk", "title", "body", "url", "created_at", "kind", "source__name")
    )
    by_pk = {m.pk: m for m in found}
    return [by_pk[pk] for pk in wanted if pk in by_pk]


def organizations_named(ids: Iterable[int]) -> dict[int, str]:
    return dict(Organization.objects.filter(pk__in=[i for i in ids if i > 0]).values_list("pk", "name"))


def accounts_by_revenue(ids: Iterable[int], *, limit: int | None = None) -> list[Account]:
    """The accounts, most revenue first (then by name); the first ``limit`` of them if given."""
    found = Account.objects.filter(pk__in=list(ids)).order_by("-annual_revenue", "name", "pk")
    return list(found[:limit] if limit is not None else found)


def scenarios_recent(*, limit: int = 20) -> QuerySet[ConsolidationScenario]:
    named = Source.objects.only("pk", "name")  # a channel's name is all the list shows: no secrets decrypted
    return (
        ConsolidationScenario.objects.select_related("created_by", "destination")
        .defer("destination__secrets", "destination__config")
        .prefetch_related(Prefetch("retire", queryset=named))[:limit]
    )
