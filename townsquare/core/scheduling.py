"""Recurring jobs, scheduled inside the project (no crontab lines).

Apps declare them with :func:`periodic` in their ``tasks.py``. The scheduler (a
thread of ``townsquare worker`` or its own ``townsquare scheduler`` process)
claims each due row with a conditional UPDATE, so running several schedulers
never enqueues the same occurrence twice. A scheduler that was down runs a
missed job once, not once per missed occurrence.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from croniter import croniter
from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules, import_string
from django_tasks.base import Task

from townsquare.core.models import Schedule

logger = logging.getLogger(__name__)

TaskT = TypeVar("TaskT", bound=Task[Any, Any])


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    cron: str
    task_path: str


_registry: dict[str, PeriodicJob] = {}


def periodic(*, name: str, cron: str) -> Callable[[TaskT], TaskT]:
    """Decorator for a task (``@task`` object) that should run on a cron schedule."""
    if not croniter.is_valid(cron):
        raise ValueError(f"schedule {name}: invalid cron expression {cron!r}")

    def register(task_obj: TaskT) -> TaskT:
        func = task_obj.func
        _registry[name] = PeriodicJob(name=name, cron=cron, task_path=f"{func.__module__}.{func.__name__}")
        return task_obj

    return register


def registered_jobs() -> dict[str, PeriodicJob]:
    autodiscover_modules("tasks")
    return dict(_registry)


def next_run(cron: str, after: dt.datetime) -> dt.datetime:
    tz = ZoneInfo(settings.TIME_ZONE)
    local = after.astimezone(tz)
    return croniter(cron, local).get_next(dt.datetime).astimezone(dt.UTC)


def schedules_sync(*, now: dt.datetime | None = None) -> list[Schedule]:
    """Create rows for registered jobs; keep admins' enabled flag and cron overrides."""
    now = now or timezone.now()
    rows = []
    for job in registered_jobs().values():
        row, created = Schedule.objects.get_or_create(
            name=job.name,
            defaults={"task_path": job.task_path, "cron": job.cron, "next_run_at": next_run(job.cron, now)},
        )
        if not created and row.task_path != job.task_path:
            row.task_path = job.task_path
            row.save(update_fields=["task_path"])
        rows.append(row)
    return rows


def scheduler_tick(*, now: dt.datetime | None = None) -> list[str]:
    """Enqueue every due job once; return the names enqueued by this call."""
    now = now or timezone.now()
    enqueued = []
    for row in Schedule.objects.filter(enabled=True, next_run_at__lte=now):
        following = next_run(row.cron, now)
        with transaction.atomic():
            claimed = Schedule.objects.filter(pk=row.pk, next_run_at=row.next_run_at).update(
                next_run_at=following, last_run_at=now
            )
            if not claimed:
                continue  # another scheduler took this occurrence
            try:
                task_obj = import_string(row.task_path)
            except ImportError:
                logger.error("schedule %s: task %s no longer exists", row.name, row.task_path)
                continue
            result = task_obj.enqueue()
            Schedule.objects.filter(pk=row.pk).update(last_result_id=str(result.id))
        enqueued.append(row.name)
        logger.info("schedule %s: enqueued, next run %s", row.name, following.isoformat())
    return enqueued


def run_scheduler(stop: threading.Event, *, interval: float = 15.0) -> None:
    schedules_sync()
    while not stop.is_set():
        close_old_connections()
        try:
            scheduler_tick()
        except Exception:  # the loop must survive a database hiccup
            logger.exception("scheduler tick failed")
        stop.wait(interval)
