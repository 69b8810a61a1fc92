from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token

from townsquare.core.roles import Role

pytestmark = pytest.mark.django_db


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
