from __future__ import annotations

from django_tasks import task

from townsquare.core.scheduling import periodic
from townsquare.updates.services import digests


@periodic(name="audience-update-drafts", cron="5 * * * *")
@task()
def build_due_update_drafts_task() -> int:
    """Every hour (company time zone): build the drafts of audiences whose weekday and hour have come."""
    return len(digests.updates_build_due())
