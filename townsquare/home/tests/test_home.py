from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from townsquare.core.roles import Role, roles_of
from townsquare.home.demo import USERS, demo_load
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


def test_the_demo_command_refuses_production_mode(settings) -> None:
    settings.MODE = "production"
    with pytest.raises(CommandError, match="refusing to load it with TOWNSQUARE_MODE=production"):
        call_command("demo")


def test_the_home_page_shows_live_figures_from_the_loops(client_for) -> None:
    MessageFactory(created_at=timezone.now() - dt.timedelta(days=2))
    MessageFactory(created_at=timezone.now() - dt.timedelta(days=40))
    page = client_for(Role.DEVREL_MEMBER).get("/home/").content.decode()
    assert '<p class="figure">1</p><p>community messages in the last 7 days</p>' in page
    assert 'aria-label="Messages per week, last 12 weeks"' in page
    assert "Week of" in page
