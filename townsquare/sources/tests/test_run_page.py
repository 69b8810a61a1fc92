"""A finished run's page says when its messages become feedback themes, and can queue that at once."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from townsquare.core.models import Schedule
from townsquare.sources.tests.factories import MessageFactory, SourceFactory, SyncRunFactory

pytestmark = pytest.mark.django_db
SWEEP_TASK = "townsquare.feedback.tasks.process_pending_messages_task"


def test_the_run_page_says_when_its_messages_become_themes_and_processes_them_now(
    client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for("devrel_member")
    source = SourceFactory(name="Acme Discord")
    MessageFactory.create_batch(3, source=source)
    MessageFactory(source=SourceFactory())  # another source's message is not counted
    run = SyncRunFactory(source=source, status="succeeded", new=3, finished_at=timezone.now())
    due = timezone.now() + dt.timedelta(minutes=7)
    Schedule.objects.update_or_create(
        name="feedback-process-pending", defaults={"task_path": SWEEP_TASK, "cron": "*/10 * * * *", "next_run_at": due}
    )
    page = client.get(reverse("sources:run", args=[run.pk])).content.decode()
    assert "3 messages of Acme Discord wait to be processed into themes: the next sweep runs" in page
    assert re.search(r"\((6|7)\s+minutes from now\)", page)
    assert "Process now</button>" in page
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(reverse("sources:run-process", args=[run.pk]), follow=True)
    assert "Processing queued" in done.content.decode()
    assert DBTaskResult.objects.filter(task_path=SWEEP_TASK).count() == 1


def test_a_running_run_says_nothing_about_themes_yet_and_its_end_reloads_the_page(client_for: Any) -> None:
    client = client_for("devrel_member")
    source = SourceFactory()
    MessageFactory(source=source)
    running = SyncRunFactory(source=source, status="running")
    assert "Feedback themes" not in client.get(reverse("sources:run", args=[running.pk])).content.decode()
    polled = client.get(reverse("sources:run", args=[running.pk]), {"part": "progress"}, headers={"HX-Request": "true"})
    assert 'hx-trigger="every 1s"' in polled.content.decode() and "HX-Refresh" not in polled
    running.status, running.finished_at = "succeeded", timezone.now()
    running.save()
    ended = client.get(reverse("sources:run", args=[running.pk]), {"part": "progress"}, headers={"HX-Request": "true"})
    assert ended["HX-Refresh"] == "true"
    page = client.get(reverse("sources:run", args=[running.pk])).content.decode()
    assert "1 message of" in page and "waits to be processed into themes" in page


def test_stakeholders_cannot_queue_processing(client_for: Any) -> None:
    run = SyncRunFactory(source=SourceFactory(), status="succeeded")
    client = client_for("stakeholder_member")
    assert client.post(reverse("sources:run-process", args=[run.pk])).status_code == 403
    assert not DBTaskResult.objects.exists()
