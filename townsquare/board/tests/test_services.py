from __future__ import annotations

import pytest
from django.conf import settings

from townsquare.board import services
from townsquare.board.models import Announcement, BoardSettings, Column, Kudos, Task, TaskEvent
from townsquare.board.tests.factories import CollaboratorFactory, TaskFactory
from townsquare.core.errors import TownsquareError
from townsquare.notify.models import Notification

pytestmark = pytest.mark.django_db


def test_it_creates_a_task_with_labels_and_records_who_created_it(devrel) -> None:
    task = services.task_create(title="  Kafka   connector tutorial ", labels=["Docs", "kafka", "docs"], by=devrel)
    assert task.title == "Kafka connector tutorial"
    assert sorted(task.labels.values_list("name", flat=True)) == ["Docs", "kafka"]
    [event] = task.events.all()
    assert (event.kind, event.actor, event.to_column) == (TaskEvent.Kind.CREATED, devrel, Column.BACKLOG)


def test_it_records_every_move_and_edit_with_who_and_when(devrel) -> None:
    task = services.task_create(title="Talk at PyCon", by=devrel)
    services.task_move(task=task, column=Column.DOING, by=devrel)
    services.task_update(task=task, by=devrel, title="Talk at PyCon US", due_date=None, labels=["talks"])
    kinds = list(task.events.order_by("id").values_list("kind", "from_column", "to_column"))
    assert kinds == [("created", "", "backlog"), ("moved", "backlog", "doing"), ("edited", "", "")]
    edit = task.events.get(kind=TaskEvent.Kind.EDITED)
    assert edit.detail == {"title": ["Talk at PyCon", "Talk at PyCon US"], "labels": ["", "talks"]}
    assert edit.actor == devrel and edit.created_at is not None


def test_an_edit_that_changes_nothing_records_nothing(devrel) -> None:
    task = services.task_create(title="Same", by=devrel)
    services.task_update(task=task, by=devrel, title="Same", labels=[])
    assert task.events.count() == 1


def test_it_orders_cards_within_a_column_and_renumbers_when_out_of_room(devrel) -> None:
    a, b, c = (services.task_create(title=name, column=Column.DOING, by=devrel) for name in "abc")
    services.task_move(task=c, column=Column.DOING, before=a, by=devrel)
    assert list(Task.objects.filter(column=Column.DOING).values_list("title", flat=True)) == ["c", "a", "b"]
    Task.objects.filter(pk__in=[a.pk, b.pk, c.pk]).update(position=5)  # no gaps left at all
    services.task_move(task=b, column=Column.DOING, before=a, by=devrel)
    titles = list(Task.objects.filter(column=Column.DOING).order_by("position", "id").values_list("title", flat=True))
    assert titles.index("b") == titles.index("a") - 1


def test_moving_to_done_records_one_announcement_per_completion(devrel, chat_room, helpers) -> None:
    eli, _sam = helpers
    task = services.task_create(title="Kafka connector tutorial", owner=devrel, by=devrel)
    services.collaborator_add(task=task, user=eli, contribution="reviewed the code samples", by=devrel)
    services.task_move(task=task, column=Column.DONE, by=devrel)
    services.task_move(task=task, column=Column.REVIEW, by=devrel)
    services.task_move(task=task, column=Column.DONE, by=devrel)
    keys = list(Notification.objects.order_by("id").values_list("event_key", flat=True))
    assert keys == [f"board.task_done:{task.pk}:1", f"board.task_done:{task.pk}:2"]
    first, second = Notification.objects.order_by("id")
    assert "reopened" not in first.body
    assert "It was reopened and is now done again." in second.body
    assert second.title == "Ari Lindqvist finished “Kafka connector tutorial” again"
    assert first.link == task.absolute_url == f"{settings.BASE_URL}/board/tasks/{task.pk}/"


def test_a_move_within_done_is_not_a_new_completion(devrel, chat_room) -> None:
    task = services.task_create(title="One", column=Column.DONE, by=devrel)
    other = services.task_create(title="Two", column=Column.DONE, by=devrel)
    services.task_move(task=task, column=Column.DONE, before=other, by=devrel)
    task.refresh_from_db()
    assert task.completions == 1
    assert Notification.objects.filter(event_key__startswith=f"board.task_done:{task.pk}:").count() == 1


def test_the_announcement_thanks_each_collaborator_by_name_and_team(devrel, chat_room, helpers, make_user) -> None:
    eli, sam = helpers
    task = services.task_create(title="Kafka connector tutorial", owner=devrel, by=devrel)
    services.collaborator_add(task=task, user=eli, contribution="reviewed the code samples", by=devrel)
    services.collaborator_add(task=task, user=sam, contribution="collected customer questions", by=devrel)
    from townsquare.people.models import Team

    services.collaborator_add(
        task=task,
        name="Jo from Acme",
        team=Team.objects.get(slug="engineering"),
        contribution="tested it on their cluster",
        by=devrel,
    )
    services.task_done(task=task, by=devrel)
    [row] = Notification.objects.all()
    assert "- **Eli Novak** (Engineering): reviewed the code samples" in row.body
    assert "- **Sam Patel** (Support): collected customer questions" in row.body
    assert "- **Jo from Acme** (Engineering): tested it on their cluster" in row.body
    assert f"(http://127.0.0.1:8000/board/tasks/{task.pk}/)" in row.body or f"/board/tasks/{task.pk}/)" in row.body
    assert row.body_format == Notification.Format.MARKDOWN


def test_it_credits_each_collaborator_once_even_when_done_twice(devrel, helpers) -> None:
    eli, sam = helpers
    task = services.task_create(title="Demo app", by=devrel)
    services.collaborator_add(task=task, user=eli, contribution="built the backend", by=devrel)
    assert Kudos.objects.count() == 0  # credit counts when the work is done
    services.task_done(task=task, by=devrel)
    services.task_move(task=task, column=Column.DOING, by=devrel)
    services.task_done(task=task, by=devrel)
    [credit] = Kudos.objects.all()
    assert (credit.kind, credit.user, credit.team.name, credit.message) == (
        Kudos.Kind.CREDIT,
        eli,
        "Engineering",
        "built the backend",
    )
    services.collaborator_add(task=task, user=sam, contribution="late help", by=devrel)
    assert Kudos.objects.filter(user=sam, kind=Kudos.Kind.CREDIT).count() == 1  # added to a done task: at once


def test_removing_a_collaborator_removes_their_credit(devrel, helpers) -> None:
    eli, _ = helpers
    task = services.task_create(title="Demo app", column=Column.DONE, by=devrel)
    collaborator = services.collaborator_add(task=task, user=eli, contribution="by mistake", by=devrel)
    assert Kudos.objects.count() == 1
    services.collaborator_remove(collaborator=collaborator, by=devrel)
    assert Kudos.objects.count() == 0
    assert task.events.filter(kind=TaskEvent.Kind.COLLABORATOR_REMOVED).exists()


def test_a_collaborator_needs_a_person_and_what_they_did(devrel, helpers) -> None:
    task = TaskFactory()
    with pytest.raises(TownsquareError, match="name a person"):
        services.collaborator_add(task=task, contribution="x", by=devrel)
    with pytest.raises(TownsquareError, match="say what they did"):
        services.collaborator_add(task=task, user=helpers[0], contribution="  ", by=devrel)
    services.collaborator_add(task=task, user=helpers[0], contribution="x", by=devrel)
    with pytest.raises(TownsquareError, match="already a collaborator"):
        services.collaborator_add(task=task, user=helpers[0], contribution="y", by=devrel)


def test_thanks_are_kudos_for_others_only(devrel, helpers) -> None:
    eli, _ = helpers
    task = TaskFactory()
    kudos = services.kudos_give(by=devrel, user=eli, message="answered forum questions all week", task=task)
    assert (kudos.kind, kudos.team.name, kudos.task) == (Kudos.Kind.THANKS, "Engineering", task)
    assert task.events.filter(kind=TaskEvent.Kind.THANKED).exists()
    with pytest.raises(TownsquareError, match="for other people"):
        services.kudos_give(by=eli, user=eli, message="me")
    with pytest.raises(TownsquareError, match="thanking them for"):
        services.kudos_give(by=devrel, user=eli, message=" ")


def test_review_mode_drafts_the_announcement_and_sends_only_when_approved(devrel, chat_room) -> None:
    services.board_settings_update(announce_mode=BoardSettings.AnnounceMode.REVIEW, by=devrel)
    task = services.task_create(title="Docs revamp", by=devrel)
    services.task_done(task=task, by=devrel)
    [draft] = Announcement.objects.all()
    assert draft.status == Announcement.Status.DRAFT
    assert Notification.objects.count() == 0
    services.announcement_update(
        announcement=draft, headline="The docs are new!", note="Tell us what you think.", by=devrel
    )
    sent = services.announcement_send(announcement=draft, by=devrel)
    assert (sent.status, sent.destinations) == (Announcement.Status.QUEUED, 1)
    [row] = Notification.objects.all()
    assert row.title == "The docs are new\\!" or row.title == "The docs are new!"
    assert "Tell us what you think." in row.body
    with pytest.raises(TownsquareError, match="already sent to the outbox"):
        services.announcement_send(announcement=draft, by=devrel)
    assert Notification.objects.count() == 1


def test_reopening_withdraws_an_announcement_waiting_for_review(devrel, chat_room) -> None:
    services.board_settings_update(announce_mode=BoardSettings.AnnounceMode.REVIEW, by=devrel)
    task = services.task_create(title="Docs revamp", column=Column.DONE, by=devrel)
    services.task_move(task=task, column=Column.REVIEW, by=devrel)
    assert Announcement.objects.get().status == Announcement.Status.DISCARDED
    services.task_done(task=task, by=devrel)
    statuses = list(Announcement.objects.order_by("completion").values_list("completion", "status", "reopened"))
    assert statuses == [(1, "discarded", False), (2, "draft", True)]


def test_a_completion_without_any_destination_is_held_not_called_sent(devrel) -> None:
    task = services.task_create(title="Quiet", by=devrel)
    services.task_done(task=task, by=devrel)
    announcement = Announcement.objects.get()
    assert (announcement.status, announcement.destinations) == (Announcement.Status.HELD, 0)
    assert announcement.get_status_display() == "Waiting for a destination"
    assert "no destination" in task.events.get(kind=TaskEvent.Kind.ANNOUNCED).summary
    assert not Notification.objects.exists()


def test_a_held_completion_is_sent_once_a_destination_for_announcements_is_added(devrel, http_endpoint) -> None:
    from townsquare.notify.services import destination_save, notification_deliver

    task = services.task_create(title="Kafka tutorial", by=devrel)
    services.task_done(task=task, by=devrel)
    # A destination for something else releases nothing.
    destination_save(name="Reports room", url=http_endpoint.url("json"), purposes=["reports"], enabled=True)
    assert Announcement.objects.get().status == Announcement.Status.HELD
    room = destination_save(
        name="DevRel channel", url=http_endpoint.url("json", "/room"), purposes=["announcements"], enabled=True
    )
    announcement = Announcement.objects.get()
    assert (announcement.status, announcement.destinations) == (Announcement.Status.QUEUED, 1)
    [row] = Notification.objects.filter(destination=room)
    assert notification_deliver(notification_id=row.pk) == Notification.Status.SENT
    assert "Kafka tutorial" in http_endpoint.received[-1].json()["message"]
    assert "DevRel channel" in task.events.filter(kind=TaskEvent.Kind.ANNOUNCED).latest("id").summary
    # Saving the destination again sends nothing twice.
    destination_save(destination=room, name="DevRel channel", url=None, purposes=["announcements"], enabled=True)
    assert Notification.objects.filter(destination=room).count() == 1


def test_an_old_held_completion_stays_held_when_a_destination_is_added(devrel, chat_room) -> None:
    from django.utils import timezone

    from townsquare.notify.services import destination_save

    task = services.task_create(title="Long ago", by=devrel)
    chat_room.delete()
    services.task_done(task=task, by=devrel)
    Announcement.objects.update(decided_at=timezone.now() - services.HELD_ANNOUNCEMENTS_MAX_AGE * 2)
    destination_save(name="New room", url=chat_room.url, purposes=["announcements"], enabled=True)
    assert Announcement.objects.get().status == Announcement.Status.HELD


def test_task_done_refuses_a_task_that_is_already_done(devrel) -> None:
    task = services.task_create(title="Done", column=Column.DONE, by=devrel)
    with pytest.raises(TownsquareError, match="already done"):
        services.task_done(task=task, by=devrel)


def test_it_refuses_unknown_columns_and_empty_titles(devrel) -> None:
    with pytest.raises(TownsquareError, match="needs a title"):
        services.task_create(title="  ", by=devrel)
    task = TaskFactory()
    with pytest.raises(TownsquareError, match="unknown column"):
        services.task_move(task=task, column="archive", by=devrel)


def test_the_credit_keeps_the_collaborators_team_and_contribution(devrel) -> None:
    collaborator = CollaboratorFactory(contribution="wrote the SQL")
    services.task_done(task=collaborator.task, by=devrel)
    credit = Kudos.objects.get()
    assert (credit.team, credit.message, credit.task_title) == (
        collaborator.team,
        "wrote the SQL",
        collaborator.task.title,
    )
