from __future__ import annotations

import logging
from functools import partial

from django.db import transaction
from django_tasks import task

from townsquare.core.scheduling import periodic
from townsquare.sources import services
from townsquare.sources.models import Source, SyncRun

logger = logging.getLogger(__name__)


@task(queue_name="ingest")
def sync_source_task(source_id: int, run_id: int | None = None, path: str | None = None) -> str:
    """Sync one source (or import ``path`` into it); ``run_id`` is a queued run made by the caller."""
    source = Source.objects.filter(pk=source_id).first()
    if source is None:
        logger.warning("source %s: gone before its sync ran", source_id)
        return "missing"
    run = SyncRun.objects.filter(pk=run_id).first() if run_id else None
    if path:
        run = services.archive_import(source=source, path=path, run=run)
    else:
        run = services.source_sync(source=source, run=run)
    return run.status


@periodic(name="sources-scheduled-syncs", cron="*/5 * * * *")
@task(queue_name="ingest")
def enqueue_due_syncs_task() -> int:
    """Every five minutes: enqueue a sync for each source whose own schedule is due."""
    due = services.sources_due()
    for source in due:
        transaction.on_commit(partial(sync_source_task.enqueue, source.pk))
    return len(due)


@periodic(name="sources-clean-uploads", cron="30 3 * * *")
@task(queue_name="ingest")
def clean_uploads_task() -> int:
    """Nightly: delete uploaded archives older than a week that no unfinished run will read."""
    return len(services.uploads_cleanup())
