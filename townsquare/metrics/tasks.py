from __future__ import annotations

from django_tasks import task

from townsquare.core.scheduling import periodic
from townsquare.metrics import services


@periodic(name="metrics-health-nightly", cron="40 2 * * *")
@task()
def recompute_metrics_task(snapshot_id: int | None = None) -> int | None:
    """Recompute community health and the channel map (nightly, or a queued snapshot from the button)."""
    snapshot = services.health_recompute(snapshot_id=snapshot_id)
    return snapshot.pk if snapshot else None
