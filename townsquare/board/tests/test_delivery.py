"""Announcements end to end: board → outbox → Apprise → real local HTTP and SMTP servers."""

from __future__ import annotations

import pytest

from townsquare.board import services
from townsquare.board.models import Column
from townsquare.board.tests.support import make_due
from townsquare.notify.models import Notification
from townsquare.notify.services import destination_save, notification_enqueue, notifications_deliver_due
from townsquare.notify.tasks import deliver_notification_task

pytestmark = pytest.mark.django_db


def finished_task(devrel, helpers):  # type: ignore[no-untyped-def]
    eli, sam = helpers
    task = services.task_create(title="Kafka connector tutorial", owner=devrel, column=Column.REVIEW, by=devrel)
    services.collaborator_add(task=task, user=eli, contribution="reviewed the code samples", by=devrel)
    services.collaborator_add(task=task, user=sam, contribution="collected customer questions", by=devrel)
    return task


def test_it_announces_once_per_completion(http_endpoint, chat_room, devrel, helpers) -> None:
    task = finished_task(devrel, helpers)
    services.task_move(task=task, column=Column.DONE, by=devrel)
    assert notifications_deliver_due() == 1
    assert notifications_deliver_due() == 0  # nothing left: delivered once
    services.task_move(task=task, column=Column.REVIEW, by=devrel)
    services.task_move(task=task, column=Column.DONE, by=devrel)
    notifications_deliver_due()
    notifications_deliver_due()
    assert len(http_endpoint.received) == 2
    first, second = (r.json() for r in http_endpoint.received)
    assert first["title"] == "Ari Lindqvist finished “Kafka connector tutorial”"
    for payload in (first, second):
        assert "**Eli Novak** (Engineering): reviewed the code samples" in payload["message"]
        assert "**Sam Patel** (Support): collected customer questions" in payload["message"]
        assert f"/board/tasks/{task.pk}/" in payload["message"]
    assert "reopened" not in first["message"]
    assert "It was reopened and is now done again." in second["message"]
    assert second["title"].endswith("again")


def test_it_retries_while_the_endpoint_fails_and_delivers_once_it_recovers(
    http_endpoint, chat_room, devrel, helpers
) -> None:
    http_endpoint.fail_next(3, 500)
    task = finished_task(devrel, helpers)
    services.task_move(task=task, column=Column.DONE, by=devrel)
    for attempt in range(1, 4):
        assert notifications_deliver_due() == 1
        row = Notification.objects.get()
        assert (row.status, row.attempts) == (Notification.Status.FAILED, attempt)
        assert notifications_deliver_due() == 0  # backing off: not due yet
        make_due(pk=row.pk)  # time passes
    assert notifications_deliver_due() == 1
    row = Notification.objects.get()
    assert (row.status, row.attempts) == (Notification.Status.SENT, 4)
    assert len(http_endpoint.received) == 1  # the failed attempts were not recorded as received
    make_due(pk=row.pk)
    assert notifications_deliver_due() == 0
    assert len(http_endpoint.received) == 1


def test_recording_the_same_completion_again_adds_nothing(http_endpoint, chat_room, devrel, helpers) -> None:
    task = finished_task(devrel, helpers)
    services.task_move(task=task, column=Column.DONE, by=devrel)
    again = notification_enqueue(
        event_key=f"board.task_done:{task.pk}:1", title="dup", body="dup", purpose="announcements"
    )
    assert again == []
    notifications_deliver_due()
    assert len(http_endpoint.received) == 1


def test_each_destination_gets_one_message(http_endpoint, smtp_server, chat_room, devrel, helpers) -> None:
    destination_save(
        name="Second room", url=http_endpoint.url("json", "/second"), purposes=["announcements"], enabled=True
    )
    destination_save(
        name="DevRel list",
        url=smtp_server.apprise_url + "&to=devrel-list@example.com",
        purposes=["announcements"],
        enabled=True,
    )
    destination_save(name="Reports only", url=http_endpoint.url("json", "/reports"), purposes=["reports"], enabled=True)
    task = finished_task(devrel, helpers)
    services.task_move(task=task, column=Column.DONE, by=devrel)
    notifications_deliver_due()
    notifications_deliver_due()
    assert sorted(r.path for r in http_endpoint.received) == ["/hook", "/second"]
    [mail] = smtp_server.wait_for(1)
    assert mail["Subject"] == "Ari Lindqvist finished “Kafka connector tutorial”"
    parts = {p.get_content_type(): p.get_content() for p in mail.walk() if not p.is_multipart()}
    html = parts.get("text/html", "")
    assert "<strong>Eli Novak</strong> (Engineering)" in html
    assert f'/board/tasks/{task.pk}/"' in html


def test_the_delivery_task_sends_the_announcement(http_endpoint, chat_room, devrel, helpers) -> None:
    task = finished_task(devrel, helpers)
    services.task_move(task=task, column=Column.DONE, by=devrel)
    row = Notification.objects.get()
    assert deliver_notification_task.call(row.pk) == Notification.Status.SENT
    assert deliver_notification_task.call(row.pk) == Notification.Status.SENT
    assert len(http_endpoint.received) == 1
