"""What sources shows on a sync run's page about feedback: when its messages become themes, and a way to hurry it.

Registered on ``core.hooks`` (sources sits below feedback and may not import it).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction

from townsquare.core.models import Schedule
from townsquare.feedback.services.processing import messages_pending_count
from townsquare.feedback.tasks import process_pending_messages_task

SWEEP = "feedback-process-pending"  # the @periodic name of process_pending_messages_task


def source_processing_status(*, source_id: int) -> dict[str, Any]:
    row = Schedule.objects.filter(name=SWEEP, enabled=True).only("next_run_at").first()
    return {"pending": messages_pending_count(source_id=source_id), "next_at": row.next_run_at if row else None}


def process_now() -> bool:
    transaction.on_commit(partial(process_pending_messages_task.enqueue))
    return True
