from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token

from townsquare.board.models import Column, Kudos, Task, Visibility
from townsquare.board.tests.factories import CollaboratorFactory, TaskFactory
from townsquare.core.roles import Role
from townsquare.notify.models import Notification

pytestmark = pytest.mark.django_db


def token_for(make_user, role: str, **kwargs) -> dict[str, str]:  # type: ignore[no-untyped-def]
    user = make_user(role, **kwargs)
    return {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=user).key}"}


def test_it_lists_tasks_a_role_may_see_with_filters(client, make_user) -> None:
    TaskFactory(title="Public", column=Column.DOING)
    TaskFactory(title="Internal", visibility=Visibility.INTERNAL)
    collaborator = CollaboratorFactory(task=TaskFactory(title="Helped"))
    executive = token_for(make_user, Role.EXECUTIVE)
    titles = [t["title"] for t in client.get("/api/v1/board/tasks/", **executive).json()["results"]]
    assert sorted(titles) == ["Helped", "Public"]
    devrel = token_for(make_user, Role.DEVREL_MEMBER)
    assert client.get("/api/v1/board/tasks/", **devrel).json()["count"] == 3
    doing = client.get("/api/v1/board/tasks/?column=doing", **devrel).json()["results"]
    assert [t["title"] for t in doing] == ["Public"]
    by_team = client.get(f"/api/v1/board/tasks/?team={collaborator.team.slug}", **devrel).json()["results"]
    assert [t["title"] for t in by_team] == ["Helped"]
    assert by_team[0]["collaborators"][0]["team"] == collaborator.team.slug


def test_devrel_creates_and_moves_tasks_and_done_announces_once(client, make_user, chat_room) -> None:
    devrel = token_for(make_user, Role.DEVREL_MEMBER)
    created = client.post(
        "/api/v1/board/tasks/",
        {"title": "Write the guide", "labels": ["docs"]},
        content_type="application/json",
        **devrel,
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["labels"] == ["docs"] and created.json()["column"] == "backlog"
    for _ in range(2):
        moved = client.post(
            f"/api/v1/board/tasks/{pk}/move/", {"column": "done"}, content_type="application/json", **devrel
        )
        assert moved.status_code == 200 and moved.json()["completions"] == 1
    assert Notification.objects.filter(event_key=f"board.task_done:{pk}:1").count() == 1


def test_a_move_names_its_errors(client, make_user) -> None:
    devrel = token_for(make_user, Role.DEVREL_MEMBER)
    task = TaskFactory()
    bad = client.post(
        f"/api/v1/board/tasks/{task.pk}/move/", {"column": "archive"}, content_type="application/json", **devrel
    )
    assert bad.status_code == 400 and "column" in bad.json()
    missing = client.post(
        "/api/v1/board/tasks/999999/move/", {"column": "done"}, content_type="application/json", **devrel
    )
    assert missing.status_code == 404


def test_other_roles_read_but_cannot_write(client, make_user) -> None:
    task = TaskFactory()
    stakeholder = token_for(make_user, Role.STAKEHOLDER_LEAD)
    assert client.get(f"/api/v1/board/tasks/{task.pk}/", **stakeholder).status_code == 200
    assert client.post("/api/v1/board/tasks/", {"title": "x"}, **stakeholder).status_code == 403
    assert client.post(f"/api/v1/board/tasks/{task.pk}/move/", {"column": "done"}, **stakeholder).status_code == 403
    assert Task.objects.get().column == Column.BACKLOG
    assert client.get("/api/v1/board/tasks/").status_code == 401
    internal = TaskFactory(visibility=Visibility.INTERNAL)
    assert client.get(f"/api/v1/board/tasks/{internal.pk}/", **stakeholder).status_code == 404


def test_kudos_can_be_listed_and_given_by_any_role(client, make_user) -> None:
    eli = make_user(Role.STAKEHOLDER_MEMBER, username="eli", team="Engineering")
    sales = token_for(make_user, Role.STAKEHOLDER_MEMBER, team="Sales")
    given = client.post(
        "/api/v1/board/kudos/", {"user": eli.pk, "message": "demo help"}, content_type="application/json", **sales
    )
    assert given.status_code == 201, given.content
    assert given.json()["team"] == "engineering" and given.json()["kind"] == "thanks"
    listed = client.get(f"/api/v1/board/kudos/?user={eli.pk}&start=2000-01-01", **sales).json()
    assert [k["message"] for k in listed["results"]] == ["demo help"]
    assert client.get("/api/v1/board/kudos/?team=no-such-team", **sales).json()["count"] == 0
    assert client.get("/api/v1/board/kudos/?start=yesterday", **sales).status_code == 400
    assert Kudos.objects.count() == 1


def test_the_api_hides_internal_tasks_in_kudos_from_other_roles(client, make_user) -> None:
    internal = TaskFactory(visibility=Visibility.INTERNAL)
    from townsquare.board.tests.factories import KudosFactory

    KudosFactory(task=internal)
    executive = token_for(make_user, Role.EXECUTIVE)
    [entry] = client.get("/api/v1/board/kudos/", **executive).json()["results"]
    assert entry["task"] is None
