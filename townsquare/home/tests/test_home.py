from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from townsquare.board.models import Column, Task
from townsquare.core.roles import Role, roles_of
from townsquare.feedback.models import Theme
from townsquare.home.demo import USERS, demo_load
from townsquare.home.selectors import dashboard_summary
from townsquare.notify.models import Notification
from townsquare.people.models import Team, TeamMembership
from townsquare.sources.tests.factories import MessageFactory

pytestmark = pytest.mark.django_db


def test_loading_the_demo_twice_duplicates_nothing() -> None:
    demo_load()
    counts = (get_user_model().objects.count(), Team.objects.count(), TeamMembership.objects.count())
    demo_load()
    assert (get_user_model().objects.count(), Team.objects.count(), TeamMembership.objects.count()) == counts
    assert counts == (len(USERS), 8, len(USERS))


def test_the_demo_has_a_person_for_every_role() -> None:
    demo_load()
    found = set()
    for user in get_user_model().objects.all():
        found |= roles_of(user)
    assert found == set(Role.values)


def test_init_asks_for_an_administrator_only_while_there_is_none() -> None:
    from townsquare.core.management.commands.init import next_step

    assert "townsquare createsuperuser" in next_step()
    demo_load()  # the demo's logins include its administrator, admin (Alex Admin)
    assert next_step() == "Start it with [bold]townsquare serve[/bold]."


def test_the_demo_command_refuses_production_mode(settings) -> None:
    settings.MODE = "production"
    with pytest.raises(CommandError, match="refusing to load it with TOWNSQUARE_MODE=production"):
        call_command("demo")


def test_the_home_page_shows_live_figures_from_the_loops(client_for) -> None:
    MessageFactory(created_at=timezone.now() - dt.timedelta(days=2))
    MessageFactory(created_at=timezone.now() - dt.timedelta(days=40))
    page = client_for(Role.DEVREL_MEMBER).get("/home/").content.decode()
    assert '<p class="figure">1</p><p>community messages in the last 7 days</p>' in page
    assert 'aria-label="Community messages per week: 2 in 12 weeks"' in page
    assert "Week of" in page


def test_the_home_summary_counts_rows_by_their_models_status(make_user) -> None:
    devrel = make_user(Role.DEVREL_MEMBER)
    for title, status in [("Live", Theme.Status.OPEN), ("Gone", Theme.Status.MERGED), ("Old", Theme.Status.ARCHIVED)]:
        Theme.objects.create(title=title, status=status)
    now = timezone.now()
    Task.objects.create(title="Shipped", column=Column.DONE, done_at=now, position=1, owner=devrel)
    Task.objects.create(title="Mine", column=Column.DOING, position=2, owner=devrel)
    Task.objects.create(title="Long ago", column=Column.DONE, done_at=now - dt.timedelta(days=30), position=3)
    for status in Notification.Status:
        Notification.objects.create(
            event_key=f"test:{status}",
            target="email:a@example.com",
            title="t",
            body="b",
            status=status,
            next_attempt_at=now,
        )
    summary = dashboard_summary(user=devrel)
    assert [theme["title"] for theme in summary["themes"]] == ["Live"]
    assert (summary["done_this_week"], summary["my_open_tasks"]) == (1, 1)
    assert summary["notifications_pending"] == 3  # pending, failed (will retry) and sending
    assert summary["notifications_waiting"] == 1  # held until email is set up: not "failed"
    assert summary["notifications_attention"] == 2  # dead and uncertain


def test_each_outbox_figure_links_to_a_list_with_that_many_rows(client_for) -> None:
    client = client_for(Role.DEVREL_LEAD)
    for status in Notification.Status:
        Notification.objects.create(
            event_key=f"test:{status}",
            target="email:a@example.com",
            title=f"row {status}",
            body="b",
            status=status,
            next_attempt_at=timezone.now(),
        )
    page = client.get("/home/").content.decode()
    links = re.findall(r'href="(/notifications/\?status=\w+)">(\d+)</a>', page)
    assert {link for link, _ in links} == {
        "/notifications/?status=queued",
        "/notifications/?status=waiting",
        "/notifications/?status=attention",
    }
    for link, count in links:
        listing = client.get(link).content.decode()
        assert len(re.findall(r'href="/notifications/\d+/"', listing)) == int(count), link


def test_a_new_workspace_shows_a_checklist_that_ticks_itself_off(client_for, make_user) -> None:
    from townsquare.core.quarters import current_quarter
    from townsquare.intake.models import Budget
    from townsquare.notify.models import Destination
    from townsquare.people.tests.factories import AccountFactory
    from townsquare.sources.tests.factories import SourceFactory

    client = client_for(Role.DEVREL_LEAD, team="DevRel")

    def marks() -> list[str]:
        page = client.get("/home/").content.decode()
        if "Set up your workspace" not in page:
            return []
        return re.findall(r'<li class="(done|)">', page.split('class="first-run-steps"', 1)[1].split("</ol>", 1)[0])

    assert marks() == ["", "", "", "", ""]  # a DevRel team of one is not a stakeholder team
    page = client.get("/home/").content.decode()
    assert "0 of 5 done" in page and 'href="/listen/sources/add/"' in page
    SourceFactory()
    AccountFactory()
    assert marks() == ["done", "done", "", "", ""]
    Destination.objects.create(name="Room", url="json://localhost/", service="json", purposes=["reports"])
    assert marks()[2] == ""  # a destination for reports does not announce finished work
    Destination.objects.create(name="DevRel", url="json://localhost/", service="json", purposes=["announcements"])
    stakeholder = Client()
    stakeholder.force_login(make_user(Role.STAKEHOLDER_MEMBER, team="Support"))
    assert marks() == ["done", "done", "done", "done", ""]
    assert "Set up your workspace" not in stakeholder.get("/home/").content.decode()  # a DevRel checklist
    team = Team.objects.get(name="Support")
    Budget.objects.create(team=team, quarter=current_quarter().previous().key, points=10)
    assert marks()[4] == ""  # last quarter's budget is not this quarter's
    Budget.objects.create(team=team, quarter=current_quarter().key, points=10)
    assert marks() == []  # all done: the checklist goes away
