from __future__ import annotations

import logging

from django_tasks import task

from townsquare.core.scheduling import periodic
from townsquare.metrics import panels
from townsquare.metrics.models import DownloadFetchRun
from townsquare.metrics.services import downloads as downloads_services
from townsquare.metrics.services import health as health_services

logger = logging.getLogger(__name__)


@periodic(name="metrics-fetch-downloads", cron="17 6 * * *")
@task(queue_name="ingest")
def fetch_downloads_task(run_id: int | None = None) -> str:
    """Fetch every enabled package (daily, after the registries publish yesterday; or a queued "fetch now")."""
    run = DownloadFetchRun.objects.filter(pk=run_id).first() if run_id else None
    if run_id and run is None:
        logger.warning("downloads fetch %s: gone before it ran", run_id)
        return "missing"
    return downloads_services.downloads_fetch(run=run).status


@periodic(name="metrics-health-nightly", cron="40 2 * * *")
@task()
def recompute_metrics_task(snapshot_id: int | None = None) -> int | None:
    """Recompute community health and the channel map (nightly, or a queued snapshot from the button)."""
    snapshot = health_services.health_recompute(snapshot_id=snapshot_id)
    if snapshot is None:
        return None
    try:  # the snapshot stands whatever happens here; a chart not drawn now is drawn by its first reader
        panels.pages_warm(snapshot=snapshot)
    except Exception:
        logger.exception("health snapshot %s: drawing its pages failed", snapshot.pk)
    return snapshot.pk
