from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from townsquare.core.demo import USERS, demo_load
from townsquare.core.roles import Role, roles_of
from townsquare.people.models import Team, TeamMembership

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
    from django.core.management.base import CommandError

    settings.MODE = "production"
    with pytest.raises(CommandError, match="refusing to load it with TOWNSQUARE_MODE=production"):
        call_command("demo")


def test_the_api_accepts_a_token_and_reports_roles_and_teams(client, make_user) -> None:
    user = make_user(Role.STAKEHOLDER_LEAD, team="Marketing", is_lead=True)
    token = Token.objects.create(user=user)
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    assert response.json()["roles"] == ["stakeholder_lead"]
    assert response.json()["teams"] == ["marketing"]


def test_the_api_refuses_a_wrong_token_without_redirecting(client) -> None:
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION="Token not-a-real-token")
    assert response.status_code == 401


def test_the_openapi_schema_lists_the_endpoints(client, make_user) -> None:
    client.force_login(make_user(Role.DEVREL_MEMBER))
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Townsquare API"
    assert "/api/v1/me/" in schema["paths"]
    assert "/api/v1/notify/notifications/" in schema["paths"]


def test_a_new_api_token_is_shown_once(client, make_user) -> None:
    client.force_login(make_user(Role.EXECUTIVE))
    page = client.post("/account/token/")
    key = Token.objects.get().key
    assert key in page.content.decode()
    assert key not in client.get("/account/").content.decode()


def test_the_health_probe_needs_no_login(client) -> None:
    response = client.get("/healthz")
    assert response.json() == {"status": "ok"}


def test_outbox_api_is_devrel_only(client, make_user) -> None:
    client.force_login(make_user(Role.STAKEHOLDER_MEMBER))
    assert client.get("/api/v1/notify/notifications/").status_code == 403
    client.force_login(make_user(Role.DEVREL_MEMBER))
    assert client.get("/api/v1/notify/notifications/").json()["results"] == []


def test_the_home_page_shows_live_figures_from_the_loops(client_for) -> None:
    import datetime as dt

    from django.utils import timezone

    from townsquare.sources.tests.factories import MessageFactory

    MessageFactory(created_at=timezone.now() - dt.timedelta(days=2))
    MessageFactory(created_at=timezone.now() - dt.timedelta(days=40))
    page = client_for(Role.DEVREL_MEMBER).get("/home/").content.decode()
    assert '<p class="figure">1</p><p>community messages in the last 7 days</p>' in page
    assert 'aria-label="Messages per week, last 12 weeks"' in page
    assert "Week of" in page
