"""Requests become tasks; finishing the task finishes the request and tells the requester."""

from __future__ import annotations

import pytest

from townsquare.board import services
from townsquare.board.models import Column, Task, TaskEvent
from townsquare.board.tests.support import accepted_request
from townsquare.intake.models import Request
from townsquare.notify.models import Notification
from townsquare.notify.services import notifications_deliver_due

pytestmark = pytest.mark.django_db


def test_accepting_a_request_creates_one_backlog_task(make_user, devrel) -> None:
    request = accepted_request(make_user, by=devrel)
    task = Task.objects.get()
    assert (task.origin_request, task.column, task.title) == (request, Column.BACKLOG, "Kafka connector tutorial")
    assert sorted(task.labels.values_list("name", flat=True)) == ["Marketing", "Tutorial for the board tests"]
    assert "Requested by Mia Chen (Marketing)" in task.description
    assert services.task_create_for_request(request=request, by=devrel) == task
    assert Task.objects.count() == 1


def test_finishing_the_task_finishes_the_request_and_emails_the_requester(
    make_user, devrel, smtp_server, settings, chat_room, http_endpoint
) -> None:
    settings.EMAIL_URL = smtp_server.apprise_url
    request = accepted_request(make_user, by=devrel)
    notifications_deliver_due()
    accepted_mails = len(smtp_server.wait_for(1))
    task = Task.objects.get()
    services.task_move(task=task, column=Column.DONE, by=devrel)
    assert Request.objects.get(pk=request.pk).status == Request.Status.DONE
    notifications_deliver_due()
    mails = smtp_server.wait_for(accepted_mails + 1)
    assert len(mails) == accepted_mails + 1
    assert mails[-1]["To"] == "mia@example.com"
    assert len(http_endpoint.received) == 1  # and the channel got its announcement
    # Reopened and done again: a second announcement, but the requester is not told twice.
    services.task_move(task=task, column=Column.REVIEW, by=devrel)
    services.task_move(task=task, column=Column.DONE, by=devrel)
    notifications_deliver_due()
    assert Notification.objects.filter(email="mia@example.com").count() == accepted_mails + 1
    assert len(http_endpoint.received) == 2


def test_a_cancelled_request_does_not_stop_the_task_from_being_finished(make_user, devrel) -> None:
    from townsquare.intake import services as intake

    request = accepted_request(make_user, by=devrel)
    intake.request_cancel(request=request, by=request.requester)
    task = Task.objects.get()
    services.task_move(task=task, column=Column.DONE, by=devrel)
    task.refresh_from_db()
    assert task.column == Column.DONE
    assert Request.objects.get(pk=request.pk).status == Request.Status.CANCELLED
    assert "left the request as it is" in task.events.get(kind=TaskEvent.Kind.NOTE).summary


def test_the_task_page_links_to_its_request(make_user, devrel, client) -> None:
    request = accepted_request(make_user, by=devrel)
    client.force_login(devrel)
    page = client.get(Task.objects.get().get_absolute_url()).content.decode()
    assert f'href="{request.get_absolute_url()}"' in page and "request from Marketing" in page
