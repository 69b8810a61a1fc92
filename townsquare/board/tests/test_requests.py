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
    notes = list(task.events.filter(kind=TaskEvent.Kind.NOTE).order_by("id").values_list("summary", flat=True))
    assert notes[0] == "the request was cancelled: finish or delete the card"
    assert "left the request as it is" in notes[1]


def test_the_task_page_links_to_its_request(make_user, devrel, client) -> None:
    request = accepted_request(make_user, by=devrel)
    client.force_login(devrel)
    page = client.get(Task.objects.get().get_absolute_url()).content.decode()
    assert f'href="{request.get_absolute_url()}"' in page and "request from Marketing" in page


def test_starting_and_finishing_the_request_moves_its_card_in_step(make_user, devrel, chat_room) -> None:
    from townsquare.intake import services as intake

    request = accepted_request(make_user, by=devrel)
    intake.request_start(request=request, by=devrel)
    task = Task.objects.get()
    assert (task.column, task.owner) == (Column.DOING, devrel)  # the person who started it owns the card
    intake.request_mark_done(request=request, by=devrel)
    task.refresh_from_db()
    assert (task.column, task.completions, task.done_by) == (Column.DONE, 1, devrel)
    assert task.announcements.get().destinations == 1  # a completion like any other: announced
    assert Request.objects.get(pk=request.pk).status == Request.Status.DONE
    # The requester hears once per change: accepted, started, done.
    assert Notification.objects.filter(email="mia@example.com").count() == 4  # with the filing notice


def test_moving_the_card_starts_and_finishes_its_request(make_user, devrel) -> None:
    request = accepted_request(make_user, by=devrel)
    task = Task.objects.get()
    services.task_move(task=task, column=Column.DOING, by=devrel)
    assert Request.objects.get(pk=request.pk).status == Request.Status.IN_PROGRESS
    services.task_move(task=task, column=Column.DONE, by=devrel)
    assert Request.objects.get(pk=request.pk).status == Request.Status.DONE
    statuses = list(request.events.order_by("id").values_list("to_status", flat=True))
    assert statuses == ["filed", "accepted", "in_progress", "done"]


def test_the_request_pages_and_the_board_agree_after_a_start_from_the_request_page(make_user, devrel, client) -> None:
    request = accepted_request(make_user, by=devrel)
    client.force_login(devrel)
    assert client.post(f"/requests/{request.pk}/start/").status_code == 302
    board = client.get("/board/").content.decode()
    card = board[board.index("Kafka connector tutorial") :]
    assert "Ari Lindqvist" in card[:2000]
    assert Task.objects.get().column == Column.DOING


def test_a_start_that_the_board_cannot_follow_rolls_back_with_it(make_user, devrel) -> None:
    from townsquare.core import hooks
    from townsquare.intake import services as intake

    request = accepted_request(make_user, by=devrel)

    def refuse(**kwargs: object) -> None:
        raise RuntimeError("the next handler failed")

    hooks.request_status_changed.register(refuse, key="test: fails after the board")
    try:
        with pytest.raises(RuntimeError):
            intake.request_start(request=request, by=devrel)
    finally:
        hooks.request_status_changed.unregister("test: fails after the board")
    assert Request.objects.get(pk=request.pk).status == Request.Status.ACCEPTED
    assert Task.objects.get().column == Column.BACKLOG
