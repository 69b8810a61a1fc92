from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from townsquare.board import services
from townsquare.board.models import Announcement, BoardSettings, Collaborator, Column, Kudos, Task, Visibility
from townsquare.board.tests.factories import CollaboratorFactory, LabelFactory, TaskFactory, TeamFactory
from townsquare.core.roles import Role
from townsquare.notify.models import Notification

pytestmark = pytest.mark.django_db


def board_titles(response) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    return {column.key: [t.title for t in column.tasks] for column in response.context["columns"]}


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_every_role_sees_the_board(client_for, role: str) -> None:
    client = client_for(role)
    TaskFactory(title="Public talk")
    response = client.get(reverse("board:index"))
    assert response.status_code == 200
    assert "Public talk" in response.content.decode()


def test_only_devrel_sees_internal_tasks_and_edit_controls(client_for) -> None:
    TaskFactory(title="Secret roadmap", visibility=Visibility.INTERNAL)
    stakeholder = client_for(Role.STAKEHOLDER_MEMBER)
    page = stakeholder.get(reverse("board:index")).content.decode()
    assert "Secret roadmap" not in page
    assert "move-form" not in page and "board.js" not in page
    internal = Task.objects.get()
    assert stakeholder.get(reverse("board:task", args=[internal.pk])).status_code == 404
    devrel = client_for(Role.DEVREL_MEMBER)
    page = devrel.get(reverse("board:index")).content.decode()
    assert "Secret roadmap" in page and "move-form" in page and "board/board.js" in page


def test_the_board_renders_in_a_constant_number_of_queries(client_for, django_assert_max_num_queries) -> None:
    client = client_for(Role.DEVREL_MEMBER)
    label = LabelFactory()
    for column in Column.values:
        for task in TaskFactory.create_batch(3, column=column):
            task.labels.add(label)
            CollaboratorFactory.create_batch(2, task=task)
    with django_assert_max_num_queries(18) as few:
        client.get(reverse("board:index"))
    for column in Column.values:
        for task in TaskFactory.create_batch(20, column=column):
            task.labels.add(label)
            CollaboratorFactory.create_batch(3, task=task)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("board:index"))
    assert sum(len(titles) for titles in board_titles(response).values()) == 92


def test_a_long_column_shows_its_first_cards_and_links_to_the_rest(client_for, settings) -> None:
    from townsquare.board import selectors

    client = client_for(Role.DEVREL_MEMBER)
    TaskFactory.create_batch(selectors.COLUMN_LIMIT + 5, column=Column.BACKLOG)
    response = client.get(reverse("board:index"))
    assert len(board_titles(response)["backlog"]) == selectors.COLUMN_LIMIT
    assert "5 more in Backlog" in response.content.decode()
    listing = client.get(reverse("board:tasks") + "?column=backlog")
    assert listing.context["page"].paginator.count == selectors.COLUMN_LIMIT + 5


def test_it_filters_by_owner_label_and_team(client_for, make_user) -> None:
    client = client_for(Role.DEVREL_MEMBER)
    ana = make_user(Role.DEVREL_MEMBER, username="ana", team="DevRel")
    docs = LabelFactory(name="docs")
    support = TeamFactory(name="Support")
    mine = TaskFactory(title="Ana's", owner=ana)
    labelled = TaskFactory(title="Labelled")
    labelled.labels.add(docs)
    helped = TaskFactory(title="Helped by support")
    CollaboratorFactory(task=helped, team=support)
    TaskFactory(title="Other")
    url = reverse("board:index")

    def titles(query: str) -> list[str]:
        return sorted(title for column in board_titles(client.get(url + query)).values() for title in column)

    assert titles(f"?owner={ana.pk}") == ["Ana's"]
    assert titles("?label=docs") == ["Labelled"]
    assert titles("?team=support") == ["Helped by support"]
    assert titles(f"?label=docs&owner={ana.pk}") == []
    assert len(titles("?label=no-such-label")) == 4  # an unknown filter is ignored, not an error
    assert mine and labelled


def test_filters_answer_htmx_with_the_board_fragment_only(client_for) -> None:
    client = client_for(Role.STAKEHOLDER_LEAD)
    TaskFactory(title="Talk")
    response = client.get(reverse("board:index"), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="board"')
    assert "<html" not in body and "Talk" in body


def test_the_move_form_works_without_javascript(client_for, chat_room) -> None:
    client = client_for(Role.DEVREL_MEMBER)
    task = TaskFactory(column=Column.REVIEW)
    response = client.post(reverse("board:move", args=[task.pk]) + "?label=x", {"column": "done"})
    assert response.status_code == 302 and response["Location"] == "/board/?label=x"
    task.refresh_from_db()
    assert task.column == Column.DONE
    assert Notification.objects.filter(event_key=f"board.task_done:{task.pk}:1").count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "is done and announced" in page


def test_a_drop_posts_through_htmx_and_gets_the_new_board(client_for) -> None:
    client = client_for(Role.DEVREL_MEMBER)
    first, second = TaskFactory(title="First", column=Column.DOING), TaskFactory(title="Second", column=Column.DOING)
    moving = TaskFactory(title="Moving", column=Column.BACKLOG)
    response = client.post(
        reverse("board:move", args=[moving.pk]), {"column": "doing", "before": second.pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    body = response.content.decode()
    doing = body[body.index('data-column="doing"') : body.index('data-column="review"')]
    assert doing.index(">First<") < doing.index(">Moving<") < doing.index(">Second<")
    assert "Moved “Moving” to Doing." in response.content.decode()
    assert first


def test_the_task_page_can_send_you_back_to_it_after_a_move(client_for) -> None:
    client = client_for(Role.DEVREL_MEMBER)
    task = TaskFactory()
    back = reverse("board:task", args=[task.pk])
    assert client.post(reverse("board:move", args=[task.pk]), {"column": "doing", "next": back})["Location"] == back
    evil = client.post(reverse("board:move", args=[task.pk]), {"column": "review", "next": "https://evil.example/"})
    assert evil["Location"] == "/board/"


def test_stakeholders_cannot_move_cards(client_for) -> None:
    client = client_for(Role.STAKEHOLDER_LEAD)
    task = TaskFactory()
    assert client.post(reverse("board:move", args=[task.pk]), {"column": "done"}).status_code == 403
    task.refresh_from_db()
    assert task.column == Column.BACKLOG


def test_creating_and_editing_a_task_through_the_forms(client_for) -> None:
    client = client_for(Role.DEVREL_LEAD)
    response = client.post(
        reverse("board:task-new"),
        {
            "title": "Write the Kafka tutorial",
            "description": "Step by step",
            "column": "doing",
            "owner": "",
            "due_date": "2026-12-01",
            "labels": "docs, kafka",
            "visibility": "public",
        },
    )
    task = Task.objects.get()
    assert response["Location"] == reverse("board:task", args=[task.pk])
    assert task.column == Column.DOING and sorted(task.labels.values_list("name", flat=True)) == ["docs", "kafka"]
    client.post(
        reverse("board:task-edit", args=[task.pk]),
        {
            "title": "Write the Kafka connector tutorial",
            "description": "Step by step",
            "owner": client.user.pk,
            "due_date": "2026-12-01",
            "labels": "docs",
            "visibility": "internal",
        },
    )
    page = client.get(reverse("board:task", args=[task.pk])).content.decode()
    assert "Write the Kafka connector tutorial" in page
    assert "edited title, owner, visibility, labels" in page
    assert "moved from Backlog to Doing" in page


def test_collaborators_and_thanks_from_the_task_page(client_for, helpers) -> None:
    eli, _sam = helpers
    client = client_for(Role.DEVREL_MEMBER)
    task = TaskFactory(column=Column.DONE)
    client.post(
        reverse("board:collaborator-add", args=[task.pk]),
        {"collab-user": eli.pk, "collab-contribution": "reviewed the samples"},
    )
    collaborator = Collaborator.objects.get()
    assert collaborator.team.name == "Engineering"
    assert Kudos.objects.filter(kind=Kudos.Kind.CREDIT, user=eli).exists()
    stakeholder = client_for(Role.STAKEHOLDER_MEMBER, team="Support")
    stakeholder.post(reverse("board:thank", args=[task.pk]), {"thanks-user": eli.pk, "thanks-message": "great review"})
    assert Kudos.objects.filter(kind=Kudos.Kind.THANKS, user=eli).exists()
    client.force_login(client_for(Role.DEVREL_MEMBER).user)
    client.post(reverse("board:collaborator-remove", args=[task.pk, collaborator.pk]))
    assert not Collaborator.objects.exists()


def test_the_announcement_can_be_previewed_edited_and_sent(client_for, chat_room) -> None:
    client = client_for(Role.DEVREL_LEAD)
    services.board_settings_update(announce_mode=BoardSettings.AnnounceMode.REVIEW, by=None)
    task = TaskFactory(title="New <docs> site", column=Column.REVIEW)
    client.post(reverse("board:move", args=[task.pk]), {"column": "done"})
    announcement = Announcement.objects.get()
    page = client.get(reverse("board:index")).content.decode()
    assert "Announcements waiting for review" in page
    preview = client.get(reverse("board:announcement", args=[announcement.pk])).content.decode()
    assert "New \\&lt;docs\\&gt; site" in preview  # Markdown-escaped, then HTML-escaped for the page
    assert Notification.objects.count() == 0
    client.post(
        reverse("board:announcement", args=[announcement.pk]),
        {"headline": "The new docs site is live", "note": "Thanks all", "action": "save"},
    )
    assert (
        "The new docs site is live"
        in client.get(reverse("board:announcement", args=[announcement.pk])).content.decode()
    )
    client.post(
        reverse("board:announcement", args=[announcement.pk]),
        {"headline": "The new docs site is live", "note": "Thanks all", "action": "send"},
    )
    [row] = Notification.objects.all()
    assert row.title == "The new docs site is live" and "Thanks all" in row.body


def test_an_announcement_can_be_discarded(client_for, chat_room) -> None:
    client = client_for(Role.DEVREL_MEMBER)
    services.board_settings_update(announce_mode=BoardSettings.AnnounceMode.REVIEW, by=None)
    task = TaskFactory(column=Column.REVIEW)
    services.task_done(task=task, by=client.user)
    announcement = Announcement.objects.get()
    client.post(reverse("board:announcement", args=[announcement.pk]), {"action": "discard"})
    announcement.refresh_from_db()
    assert announcement.status == Announcement.Status.DISCARDED
    assert Notification.objects.count() == 0


def test_only_leads_change_the_announcement_setting(client_for) -> None:
    assert client_for(Role.DEVREL_MEMBER).get(reverse("board:settings")).status_code == 403
    lead = client_for(Role.DEVREL_LEAD)
    lead.post(reverse("board:settings"), {"announce_mode": "review"})
    assert BoardSettings.objects.get().announce_mode == "review"


def test_kudos_ledgers_per_person_and_team_filter_by_quarter(client_for, helpers, devrel) -> None:
    import datetime as dt

    from django.utils import timezone

    from townsquare.core.quarters import current_quarter

    eli, _sam = helpers
    client = client_for(Role.STAKEHOLDER_LEAD, team="Engineering", is_lead=True)
    task = services.task_create(title="Kafka tutorial", by=devrel)
    services.collaborator_add(task=task, user=eli, contribution="reviewed the code samples", by=devrel)
    services.task_done(task=task, by=devrel)
    old = services.kudos_give(by=devrel, user=eli, message="helped at the meetup last year")
    Kudos.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=400))
    person = client.get(reverse("board:kudos-person", args=[eli.pk])).content.decode()
    assert "reviewed the code samples" in person and "helped at the meetup last year" in person
    this_quarter = client.get(reverse("board:kudos-person", args=[eli.pk]) + f"?quarter={current_quarter().key}")
    assert "reviewed the code samples" in this_quarter.content.decode()
    assert "helped at the meetup last year" not in this_quarter.content.decode()
    team = client.get(reverse("board:kudos-team", args=["engineering"])).content.decode()
    assert "Eli Novak" in team and "Kafka tutorial" in team
    index = client.get(reverse("board:kudos"))
    assert [row["name"] for row in index.context["people"]] == ["Eli Novak"]


def test_kudos_for_internal_tasks_hide_the_task_from_other_roles(client_for, helpers, devrel) -> None:
    eli, _ = helpers
    task = services.task_create(title="Secret launch", visibility=Visibility.INTERNAL, by=devrel)
    services.collaborator_add(task=task, user=eli, contribution="helped", by=devrel)
    services.task_done(task=task, by=devrel)
    page = client_for(Role.EXECUTIVE).get(reverse("board:kudos-person", args=[eli.pk])).content.decode()
    assert "Secret launch" not in page and "an internal DevRel task" in page


def test_the_done_feed_lists_finished_public_tasks_as_a_page_and_atom(client_for, devrel, helpers) -> None:
    eli, _ = helpers
    public = services.task_create(title="Public <tutorial> & more", by=devrel, owner=devrel)
    services.collaborator_add(task=public, user=eli, contribution="reviewed", by=devrel)
    services.task_done(task=public, by=devrel)
    services.task_create(title="Internal thing", visibility=Visibility.INTERNAL, column=Column.DONE, by=devrel)
    services.task_create(title="Not finished", by=devrel)
    client = client_for(Role.EXECUTIVE)
    page = client.get(reverse("board:done")).content.decode()
    assert "Public &lt;tutorial&gt; &amp; more" in page and "Eli Novak" in page
    assert "Internal thing" not in page and "Not finished" not in page
    feed = client.get(reverse("board:done-atom"))
    assert feed["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(feed.content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    [entry] = root.findall("a:entry", ns)
    assert entry.find("a:title", ns).text == "Public <tutorial> & more"
    summary = entry.find("a:summary", ns).text
    assert "&lt;tutorial&gt;" in summary  # type="html": the reader shows the text, never a tag
    assert "Eli Novak (Engineering)" in summary
    assert entry.find("a:link", ns).attrib["href"].endswith(f"/board/tasks/{public.pk}/")


def test_user_text_is_escaped_on_every_board_page(client_for) -> None:
    client = client_for(Role.DEVREL_MEMBER)
    task = TaskFactory(title="<script>alert(1)</script>", description="<img src=x onerror=alert(1)>")
    CollaboratorFactory(task=task, user=None, name="<b>Mallory</b>", contribution="<i>x</i>")
    for url in (reverse("board:index"), reverse("board:task", args=[task.pk]), reverse("board:tasks")):
        body = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in body and "<b>Mallory</b>" not in body, url
        assert "&lt;script&gt;" in body, url
