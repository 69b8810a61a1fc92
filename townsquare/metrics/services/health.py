"""Writes of the metrics app: recomputing health snapshots and saving consolidation scenarios."""

from __future__ import annotations

import logging
import time
from functools import partial

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from townsquare.core.errors import TownsquareError
from townsquare.metrics.channels import WINDOWS, channel_map
from townsquare.metrics.corpus import corpus_load, month_label
from townsquare.metrics.health import health_figures
from townsquare.metrics.models import ChannelMap, ConsolidationScenario, HealthFigures, HealthSnapshot
from townsquare.metrics.selectors import health as selectors
from townsquare.sources.models import Source

logger = logging.getLogger(__name__)

SNAPSHOTS_KEPT = 3  # older succeeded snapshots are deleted after a new one lands


def _user(by: User | None) -> User | None:
    """The user to record, or None (system runs record nobody)."""
    return by if by is not None and by.pk else None


def health_recompute_request(*, by: User | None) -> tuple[HealthSnapshot, bool]:
    """Queue a recompute (after commit) unless a live one is queued or running; returns (row, queued now)."""
    from townsquare.metrics.tasks import recompute_metrics_task  # tasks import services; this is the one way back

    with transaction.atomic():
        cutoff = timezone.now() - selectors.STALE_AFTER
        pending = HealthSnapshot.objects.select_for_update().filter(
            status__in=[HealthSnapshot.Status.QUEUED, HealthSnapshot.Status.RUNNING], created_at__gte=cutoff
        )
        existing = pending.first()
        if existing is not None:
            return existing, False
        snapshot = HealthSnapshot.objects.create(requested_by=_user(by))
        transaction.on_commit(partial(recompute_metrics_task.enqueue, snapshot.pk))
    return snapshot, True


def health_recompute(*, snapshot_id: int | None = None) -> HealthSnapshot | None:
    """Compute every health figure and channel map into a snapshot; None if another worker claimed it.

    Safe to run twice: a queued snapshot is claimed with a conditional UPDATE that must change one row.
    The figures are written in one transaction, so pages show the previous snapshot until this one is whole.
    """
    now = timezone.now()
    if snapshot_id is None:
        snapshot = HealthSnapshot.objects.create(status=HealthSnapshot.Status.RUNNING, started_at=now)
    else:
        claimed = HealthSnapshot.objects.filter(pk=snapshot_id, status=HealthSnapshot.Status.QUEUED).update(
            status=HealthSnapshot.Status.RUNNING, started_at=now
        )
        if not claimed:
            logger.info("health snapshot %s: already claimed or gone", snapshot_id)
            return None
        snapshot = HealthSnapshot.objects.get(pk=snapshot_id)
    started = time.perf_counter()
    try:
        corpus = corpus_load()
        overall = health_figures(corpus, source=None)
        per_source = [(pk, health_figures(corpus, source=i)) for i, pk in enumerate(corpus.source_ids)]
        maps = {window: channel_map(corpus, window=window) for window in WINDOWS}
    except Exception as exc:  # recorded on the row, then re-raised so the task shows as failed too
        HealthSnapshot.objects.filter(pk=snapshot.pk).update(
            status=HealthSnapshot.Status.FAILED, finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}"
        )
        logger.exception("health snapshot %s failed", snapshot.pk)
        raise
    span = corpus.months
    with transaction.atomic():
        HealthFigures.objects.bulk_create(
            [HealthFigures(snapshot=snapshot, source=None, data=overall)]
            + [HealthFigures(snapshot=snapshot, source_id=pk, data=data) for pk, data in per_source]
        )
        ChannelMap.objects.bulk_create(
            [ChannelMap(snapshot=snapshot, window=window, data=data) for window, data in maps.items()]
        )
        snapshot.status = HealthSnapshot.Status.SUCCEEDED
        snapshot.finished_at = timezone.now()
        snapshot.seconds = round(time.perf_counter() - started, 3)
        snapshot.messages = corpus.messages
        snapshot.people = int((corpus.person_first >= 0).sum())
        snapshot.first_month = month_label(span[0]) if span else ""
        snapshot.last_month = month_label(span[1]) if span else ""
        snapshot.save()
        keep = HealthSnapshot.objects.filter(status=HealthSnapshot.Status.SUCCEEDED).order_by("-finished_at", "-id")
        old = list(keep.values_list("pk", flat=True)[SNAPSHOTS_KEPT:])
        HealthSnapshot.objects.filter(pk__in=old).delete()
        HealthSnapshot.objects.filter(status=HealthSnapshot.Status.FAILED, created_at__lt=snapshot.created_at).delete()
    logger.info("health snapshot %s: %s messages in %.1fs", snapshot.pk, corpus.messages, snapshot.seconds)
    return snapshot


def scenario_save(
    *,
    name: str,
    retire: list[Source],
    destination: Source | None,
    window: str,
    by: User | None,
    note: str = "",
) -> ConsolidationScenario:
    name = name.strip()
    if not name:
        raise TownsquareError("A scenario needs a name.", record="name")
    if not retire and destination is not None:
        raise TownsquareError("Pick at least one channel to retire, or a new channel as destination.", record="retire")
    if destination is not None and destination in retire:
        raise TownsquareError("The destination cannot be one of the channels you retire.", record="destination")
    if window not in WINDOWS:
        raise TownsquareError(f"Unknown window {window!r}.", record="window")
    with transaction.atomic():
        scenario = ConsolidationScenario.objects.create(
            name=name[:200], destination=destination, window=window, note=note, created_by=_user(by)
        )
        scenario.retire.set(retire)
    return scenario
