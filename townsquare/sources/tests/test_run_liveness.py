"""A killed import is taken over at once and resumed from its cursor; refusals leave no failed runs behind."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from townsquare.sources import services
from townsquare.sources.models import Message, SyncRun
from townsquare.sources.tests.factories import SourceFactory, SyncRunFactory
from townsquare.sources.tests.helpers import DATA
from townsquare.testing.processes import subprocess_env, townsquare_command

CHECKOUT = Path(__file__).resolve().parents[3]
DISCOURSE = DATA / "discourse/urho3d/t"
TOTAL = 1858  # messages in that archive

# Commits a batch of 200 every half second, so the test can kill it between batches.
SLOW_IMPORT = """
import time
from townsquare.sources import services
from townsquare.sources.models import Source
source = Source.objects.get(pk={pk})
services.archive_import(source=source, path={path!r}, batch_size=200, progress=lambda run: time.sleep(0.5))
"""


def wait_for(predicate: Any, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.django_db(transaction=True)
def test_an_import_killed_with_sigkill_is_resumed_at_once_by_the_next_run() -> None:
    source = SourceFactory(kind="discourse_archive", config={"url": "https://discourse.urho3d.io"})
    child = subprocess.Popen(
        townsquare_command("shell", "-c", SLOW_IMPORT.format(pk=source.pk, path=str(DISCOURSE))),
        env=subprocess_env(PYTHONPATH=str(CHECKOUT)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        started = wait_for(lambda: SyncRun.objects.filter(source=source, new__gte=400).exists())
        assert started, child.stderr.read().decode()[-2000:] if child.poll() is not None and child.stderr else ""
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    killed = SyncRun.objects.get(source=source)
    assert killed.status == SyncRun.Status.RUNNING and 400 <= killed.new < TOTAL

    source.refresh_from_db()  # as a new process would load it: with the cursor the killed run committed
    resumed = services.archive_import(source=source, path=DISCOURSE, batch_size=200)

    assert resumed.status == SyncRun.Status.SUCCEEDED, resumed.error
    assert (resumed.new, resumed.unchanged) == (TOTAL - killed.new, 0)  # from the cursor: nothing read twice
    assert Message.objects.filter(source=source).count() == TOTAL
    killed.refresh_from_db()
    assert killed.status == SyncRun.Status.FAILED and killed.error.startswith("interrupted")
    assert SyncRun.objects.filter(source=source).count() == 2


@pytest.mark.django_db
def test_a_refused_sync_leaves_no_failed_run_behind() -> None:
    source = SourceFactory(kind="discourse_archive")
    alive = services.run_start(source=source)  # this process: alive
    for _ in range(3):
        refused = services.source_sync(source=source, path=DISCOURSE)
        assert refused.status == SyncRun.Status.FAILED and f"already running (run {alive.pk})" in refused.error
    assert list(SyncRun.objects.filter(source=source).values_list("pk", "status")) == [(alive.pk, "running")]
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_a_run_on_another_host_is_dead_once_its_heartbeat_is_stale(settings: Any) -> None:
    settings.SYNC_STALE_SECONDS = 60
    source = SourceFactory(kind="discourse_archive", config={"url": "https://discourse.urho3d.io"})
    elsewhere = {"status": SyncRun.Status.RUNNING, "finished_at": None, "host": "worker-2/abcdef12", "pid": 1}
    fresh = SyncRunFactory(source=source, heartbeat_at=timezone.now() - dt.timedelta(seconds=30), **elsewhere)
    assert "already running" in services.source_sync(source=source, path=DISCOURSE).error
    SyncRun.objects.filter(pk=fresh.pk).update(heartbeat_at=timezone.now() - dt.timedelta(seconds=61))
    run = services.source_sync(source=source, path=DISCOURSE)
    assert run.status == SyncRun.Status.SUCCEEDED and run.new == TOTAL
    fresh.refresh_from_db()
    assert fresh.status == SyncRun.Status.FAILED


@pytest.mark.django_db
def test_a_dead_pid_on_this_host_is_dead_even_with_a_fresh_heartbeat() -> None:
    source = SourceFactory(kind="discourse_archive", config={"url": "https://discourse.urho3d.io"})
    gone = subprocess.Popen(["true"])
    gone.wait()
    owner = services.run_start(source=source)
    SyncRun.objects.filter(pk=owner.pk).update(pid=gone.pid, pid_started=None, heartbeat_at=timezone.now())
    run = services.source_sync(source=source, path=DISCOURSE)
    assert run.status == SyncRun.Status.SUCCEEDED and run.new == TOTAL


@pytest.mark.django_db
def test_a_reused_pid_is_not_the_run_that_died() -> None:
    source = SourceFactory(kind="discourse_archive", config={"url": "https://discourse.urho3d.io"})
    owner = services.run_start(source=source)
    assert owner.pid == os.getpid() and owner.pid_started  # this process, on Linux
    SyncRun.objects.filter(pk=owner.pk).update(pid_started=owner.pid_started - 1)  # an earlier process, same pid
    run = services.source_sync(source=source, path=DISCOURSE)
    assert run.status == SyncRun.Status.SUCCEEDED and run.new == TOTAL
