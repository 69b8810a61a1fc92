from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token

from townsquare.core.quarters import current_quarter
from townsquare.core.roles import Role
from townsquare.intake import services
from townsquare.intake.models import Request
from townsquare.intake.tests.factories import BudgetFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/intake"


def token_client(client, user):
    token = Token.objects.create(user=user)
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {token.key}"
    return client


def test_a_member_files_a_request_through_the_api(client, setup) -> None:
    client = token_client(client, setup.member)
    response = client.post(
        f"{API}/requests/",
        {"type": "blog", "title": "Kafka post", "details": {"audience": "Data engineers"}},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["team"], body["status"], body["points"], body["quarter"]) == (
        "marketing",
        "filed",
        4,
        current_quarter().key,
    )
    assert body["details"] == {"audience": "Data engineers"}


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"type": "blog", "title": "x", "details": {}}, "details", "This field is required."),
        ({"type": "blog", "title": "x", "details": {"audience": "a", "colour": "red"}}, "details", "not a field"),
        ({"type": "nope", "title": "x"}, "type", "does not exist"),
        ({"type": "qa", "title": "x", "quarter": "someday"}, "quarter", "not a quarter"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_files_nothing(client, setup, payload, field, message) -> None:
    response = token_client(client, setup.member).post(f"{API}/requests/", payload, content_type="application/json")
    assert response.status_code == 400
    assert field in response.json() and message in str(response.json()[field])
    assert not Request.objects.exists()


def test_over_budget_and_closed_quarters_are_refused_by_the_api(client, setup) -> None:
    client = token_client(client, setup.member)
    for title in ("a", "b"):
        client.post(
            f"{API}/requests/",
            {"type": "blog", "title": title, "details": {"audience": "x"}},
            content_type="application/json",
        )
    refused = client.post(
        f"{API}/requests/",
        {"type": "blog", "title": "c", "details": {"audience": "x"}},
        content_type="application/json",
    )
    assert refused.status_code == 400 and "has 2 of 10 left" in refused.json()["budget"][0]
    closed = client.post(
        f"{API}/requests/",
        {"type": "qa", "title": "c", "quarter": current_quarter().previous().key},
        content_type="application/json",
    )
    assert closed.status_code == 400 and "is closed" in closed.json()["quarter"][0]
    assert Request.objects.count() == 2


def test_stakeholders_list_only_their_teams_requests(client, setup, make_user) -> None:
    services.request_file(
        team=setup.team, requester=setup.member, request_type=setup.qa, quarter=current_quarter(), title="mine"
    )
    outsider = make_user(Role.STAKEHOLDER_MEMBER, team="Sales")
    BudgetFactory(team=outsider.teams.get())
    services.request_file(
        team=outsider.teams.get(), requester=outsider, request_type=setup.qa, quarter=current_quarter(), title="theirs"
    )
    client.force_login(setup.member)
    titles = [r["title"] for r in client.get(f"{API}/requests/").json()["results"]]
    assert titles == ["mine"]
    theirs = Request.objects.get(title="theirs")
    assert client.get(f"{API}/requests/{theirs.pk}/").status_code == 404
    client.force_login(setup.devrel)
    assert len(client.get(f"{API}/requests/?status=filed").json()["results"]) == 2


def test_devrel_triages_accepts_starts_and_finishes_through_the_api(client, setup) -> None:
    request = services.request_file(
        team=setup.team,
        requester=setup.member,
        request_type=setup.blog,
        quarter=current_quarter(),
        title="post",
        details={"audience": "x"},
    )
    client = token_client(client, setup.devrel)
    triaged = client.post(
        f"{API}/requests/{request.pk}/triage/",
        {"uniquely_devrel": True, "team_could_with_guidance": False, "decision": "accept"},
        content_type="application/json",
    )
    assert triaged.status_code == 200 and triaged.json()["status"] == "accepted"
    assert triaged.json()["uniquely_devrel"] is True
    for status in ("in_progress", "done", "done"):
        response = client.post(
            f"{API}/requests/{request.pk}/status/", {"status": status}, content_type="application/json"
        )
        assert response.json()["status"] == status
    ledger = client.get(f"{API}/budgets/{request.budget_id}/ledger/").json()
    assert [(e["kind"], e["effect"]) for e in ledger] == [("reserve", -4), ("spend", 0)]


def test_stakeholders_cannot_triage_and_devrel_cannot_file(client, setup) -> None:
    request = services.request_file(
        team=setup.team, requester=setup.member, request_type=setup.qa, quarter=current_quarter(), title="q"
    )
    client.force_login(setup.member)
    assert client.post(f"{API}/requests/{request.pk}/triage/", {}, content_type="application/json").status_code == 403
    client.force_login(setup.devrel)
    assert (
        client.post(f"{API}/requests/", {"type": "qa", "title": "x"}, content_type="application/json").status_code
        == 403
    )


def test_the_requester_cancels_and_the_team_reorders_through_the_api(client, setup) -> None:
    a, b = (
        services.request_file(
            team=setup.team, requester=setup.member, request_type=setup.qa, quarter=current_quarter(), title=t
        )
        for t in "ab"
    )
    client.force_login(setup.member)
    ranked = client.post(f"{API}/teams/marketing/priorities/", {"order": [b.pk, a.pk]}, content_type="application/json")
    assert [r["title"] for r in ranked.json()] == ["b", "a"]
    assert client.post(f"{API}/requests/{a.pk}/cancel/").json()["status"] == "cancelled"
    [row] = client.get(f"{API}/budgets/").json()
    assert (row["team"], row["reserved"], row["available"]) == ("marketing", 1, 9)


def test_types_list_the_active_types_with_their_fields(client, setup) -> None:
    setup.qa.active = False
    setup.qa.save()
    client.force_login(setup.member)
    slugs = {t["slug"]: t for t in client.get(f"{API}/types/").json()}
    assert "qa" not in slugs
    assert slugs["blog"]["points"] == 4 and slugs["blog"]["mentoring_alternative"] == "coaching"
    assert slugs["blog"]["fields"][0]["name"] == "audience"


def test_the_schema_documents_the_requests_endpoints(client, setup) -> None:
    client.force_login(setup.devrel)
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    assert {f"{API}/requests/", f"{API}/requests/{{id}}/triage/", f"{API}/summary/"} <= set(paths)
