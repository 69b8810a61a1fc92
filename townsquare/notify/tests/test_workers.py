"""The outbox with real worker processes: the database queue, RQ on Redis, and a SIGKILL mid-send."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import time

import pytest
from django.utils import timezone

from townsquare.notify import services
from townsquare.notify.models import Notification
from townsquare.testing import unreachable
from townsquare.testing.processes import subprocess_env, townsquare_command

pytestmark = [pytest.mark.django_db(transaction=True)]


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.1) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def test_a_database_worker_delivers_the_enqueued_notification(http_endpoint) -> None:
    services.destination_save(name="room", url=http_endpoint.url("json"), purposes=["announcements"], enabled=True)
    [row] = services.notification_enqueue(
        event_key="w1", title="Hello from a worker", body="b", purpose="announcements"
    )
    result = subprocess.run(
        townsquare_command("worker", "--batch", "--queue", "notify"),
        check=False,
        env=subprocess_env(TOWNSQUARE_TASKS_BACKEND="database"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    row.refresh_from_db()
    assert row.status == Notification.Status.SENT
    assert [r.json()["title"] for r in http_endpoint.received] == ["Hello from a worker"]


def test_an_rq_worker_on_redis_runs_the_same_task(http_endpoint) -> None:
    import redis

    redis_url = f"redis://127.0.0.1:6379/{1 + os.getpid() % 15}"
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        unreachable(f"Redis at 127.0.0.1:6379 is unreachable: {exc}")
    services.destination_save(name="room", url=http_endpoint.url("json"), purposes=["announcements"], enabled=True)
    env = subprocess_env(TOWNSQUARE_TASKS_BACKEND="rq", TOWNSQUARE_REDIS_URL=redis_url)
    enqueue = (
        "from townsquare.notify import services; "
        "services.notification_enqueue(event_key='rq1', title='Hello over RQ', body='b', purpose='announcements')"
    )
    done = subprocess.run(
        townsquare_command("shell", "-c", enqueue), check=False, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert Notification.objects.get(event_key="rq1").status == Notification.Status.PENDING
    worker = subprocess.run(
        townsquare_command("worker", "--batch", "--queue", "notify"),
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert worker.returncode == 0, worker.stderr[-2000:]
    assert Notification.objects.get(event_key="rq1").status == Notification.Status.SENT
    assert [r.json()["title"] for r in http_endpoint.received] == ["Hello over RQ"]


def test_a_worker_killed_between_sending_and_marking_sent_never_causes_a_second_delivery(http_endpoint) -> None:
    services.destination_save(name="room", url=http_endpoint.url("json"), purposes=["announcements"], enabled=True)
    http_endpoint.delay = 3.0  # the endpoint has the message, the worker is still waiting for the answer
    [row] = services.notification_enqueue(event_key="kill1", title="Sent once", body="b", purpose="announcements")
    worker = subprocess.Popen(
        townsquare_command("worker", "--queue", "notify", "--no-scheduler", "--interval", "0.1"),
        env=subprocess_env(TOWNSQUARE_TASKS_BACKEND="database"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_until(lambda: len(http_endpoint.received) == 1), "the worker never sent the message"
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    row.refresh_from_db()
    assert row.status == Notification.Status.SENDING
    assert row.send_started_at is not None

    http_endpoint.delay = 0
    # Later, the sweep (any worker) finds the stale claim.
    later = timezone.now() + dt.timedelta(hours=1)
    assert services.notifications_recover_stale(now=later) == {"retried": 0, "uncertain": 1}
    services.notifications_deliver_due()
    second = subprocess.run(
        townsquare_command("worker", "--batch", "--queue", "notify"),
        check=False,
        env=subprocess_env(TOWNSQUARE_TASKS_BACKEND="database"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert second.returncode == 0, second.stderr[-2000:]
    row.refresh_from_db()
    assert row.status == Notification.Status.UNCERTAIN
    assert len(http_endpoint.received) == 1


def test_a_transaction_that_records_many_notifications_enqueues_them_in_batches(http_endpoint) -> None:
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    from townsquare.notify.services import DELIVERY_BATCH

    services.destination_save(name="room", url=http_endpoint.url("json"), purposes=["alerts"], enabled=True)
    with transaction.atomic():
        for n in range(DELIVERY_BATCH + 1):
            services.notification_enqueue(event_key=f"batch:{n}", title=f"t{n}", body="b", purpose="alerts")
    batches = DBTaskResult.objects.filter(task_path="townsquare.notify.tasks.deliver_notifications_task")
    assert sorted(len(r.args_kwargs["args"][0]) for r in batches) == [1, DELIVERY_BATCH]


def test_a_rolled_back_transaction_does_not_swallow_the_next_ones_notifications(http_endpoint) -> None:
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    services.destination_save(name="room", url=http_endpoint.url("json"), purposes=["alerts"], enabled=True)
    try:
        with transaction.atomic():
            services.notification_enqueue(event_key="rolled-back", title="t", body="b", purpose="alerts")
            raise RuntimeError("the event failed")
    except RuntimeError:
        pass
    with transaction.atomic():
        [row] = services.notification_enqueue(event_key="kept", title="t", body="b", purpose="alerts")
    [task] = DBTaskResult.objects.filter(task_path="townsquare.notify.tasks.deliver_notifications_task")
    assert task.args_kwargs["args"][0] == [row.pk]
