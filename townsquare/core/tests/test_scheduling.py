from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import close_old_connections
from django_tasks_db.models import DBTaskResult

from townsquare.core.models import Schedule
from townsquare.core.scheduling import next_run, registered_jobs, scheduler_tick, schedules_sync

UTC = dt.UTC


def only_the_sweep(now: dt.datetime) -> None:
    """Register every job, then leave only the outbox sweep enabled, so counts are about one job."""
    schedules_sync(now=now)
    Schedule.objects.exclude(name="notify-sweep").update(enabled=False)


def test_next_run_follows_the_company_time_zone(settings) -> None:
    settings.TIME_ZONE = "Europe/Paris"
    after = dt.datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # Monday 06:00 in Paris
    # Monday 07:00 Paris is 06:00 UTC in winter.
    assert next_run("0 7 * * mon", after) == dt.datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def test_the_outbox_sweep_is_registered() -> None:
    assert registered_jobs()["notify-sweep"].task_path == "townsquare.notify.tasks.deliver_due_notifications_task"


@pytest.mark.django_db
def test_sync_keeps_an_admins_changes() -> None:
    schedules_sync()
    Schedule.objects.filter(name="notify-sweep").update(enabled=False, cron="*/5 * * * *")
    schedules_sync()
    row = Schedule.objects.get(name="notify-sweep")
    assert (row.enabled, row.cron) == (False, "*/5 * * * *")


@pytest.mark.django_db
def test_a_due_job_is_enqueued_once_and_rescheduled() -> None:
    now = dt.datetime(2026, 11, 25, 10, 0, 30, tzinfo=UTC)
    only_the_sweep(now - dt.timedelta(minutes=5))
    assert scheduler_tick(now=now) == ["notify-sweep"]
    assert scheduler_tick(now=now) == []
    row = Schedule.objects.get(name="notify-sweep")
    assert row.next_run_at == dt.datetime(2026, 11, 25, 10, 1, tzinfo=UTC)
    assert DBTaskResult.objects.filter(task_path="townsquare.notify.tasks.deliver_due_notifications_task").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_schedulers_enqueue_an_occurrence_once() -> None:
    now = dt.datetime(2026, 11, 25, 10, 0, 30, tzinfo=UTC)
    only_the_sweep(now - dt.timedelta(minutes=5))
    results: list[list[str]] = []
    barrier = threading.Barrier(4)

    def tick() -> None:
        try:
            barrier.wait()
            results.append(scheduler_tick(now=now))
        finally:
            close_old_connections()

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(r) for r in results) == [0, 0, 0, 1]
    assert DBTaskResult.objects.count() == 1


@pytest.mark.django_db
def test_a_scheduler_that_was_down_runs_a_missed_job_once() -> None:
    start = dt.datetime(2026, 11, 25, 10, 0, 30, tzinfo=UTC)
    only_the_sweep(start)
    three_hours_later = start + dt.timedelta(hours=3)
    assert scheduler_tick(now=three_hours_later) == ["notify-sweep"]
    assert scheduler_tick(now=three_hours_later) == []
