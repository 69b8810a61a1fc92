from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from townsquare.core.roles import Role
from townsquare.metrics.models import ConsolidationScenario, HealthSnapshot
from townsquare.metrics.services import health as services
from townsquare.metrics.tests.conftest import Community
from townsquare.sources.models import Source

pytestmark = pytest.mark.django_db


@pytest.fixture
def computed(community: Community) -> Community:
    services.health_recompute()
    return community


def rows(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_health_page_names_each_chaoss_metric_and_links_its_definition(
    client_for: Any, computed: Community
) -> None:
    response = client_for(Role.EXECUTIVE).get("/value/health/")
    assert response.status_code == 200
    page = response.content.decode()
    for slug in ("contributors", "new-contributors", "inactive-contributors", "time-to-first-response",
                 "contributor-absence-factor", "elephant-factor", "organizational-diversity"):  # fmt: skip
        assert f"https://chaoss.community/kb/metric-{slug}/" in page
    assert "<svg" in page and "Figures as a table" in page
    assert "&lt;b&gt;Nobody?&lt;/b&gt;" in page and "<b>Nobody?</b>" not in page  # community text is escaped
    assert "Recompute now" not in page  # executives read; the lead recomputes


def test_the_health_page_filters_by_channel_and_months(client_for: Any, computed: Community) -> None:
    client = client_for(Role.DEVREL_MEMBER)
    response = client.get("/value/health/", {"source": computed.slack.pk, "start": "2024-02", "end": "2024-03"})
    assert response.status_code == 200
    assert response.context["shown"] == ["2024-02", "2024-03"]
    assert response.context["latest"]["month"] == "2024-03"
    bad = client.get("/value/health/", {"start": "2024-05", "end": "2024-01"})
    assert bad.status_code == 200 and "comes after" in bad.content.decode()


def test_the_health_page_reads_a_fixed_number_of_queries(client_for: Any, computed: Community) -> None:
    client = client_for(Role.DEVREL_LEAD)
    client.get("/value/health/")  # warm the session, roles and chart cache
    with CaptureQueriesContext(connection) as first:
        assert client.get("/value/health/").status_code == 200
    with CaptureQueriesContext(connection) as filtered:
        assert client.get("/value/health/", {"source": computed.forum.pk}).status_code == 200
    assert len(first) <= 12 and len(filtered) <= len(first) + 1


def test_a_channel_without_messages_shows_an_honest_empty_state(client_for: Any, computed: Community) -> None:
    response = client_for(Role.DEVREL_MEMBER).get("/value/health/", {"source": computed.empty.pk})
    assert response.status_code == 200 and "No messages here yet" in response.content.decode()


def test_before_the_first_recompute_the_pages_say_so(client_for: Any, community: Community) -> None:
    client = client_for(Role.DEVREL_LEAD)
    for path in ("/value/", "/value/health/", "/value/channels/"):
        response = client.get(path)
        assert response.status_code == 200
    assert "No figures have been computed yet" in client.get("/value/health/").content.decode()


def test_the_value_page_names_the_missing_step_before_any_figures(client_for: Any, db: None) -> None:
    from townsquare.sources.tests.factories import SourceFactory

    # client_for logs the one test client in: the executive first, then the lead.
    page = client_for(Role.EXECUTIVE).get("/value/").content.decode()
    assert "connect a source" in page and 'href="/listen/"' not in page  # Listen is DevRel's: no dead link
    lead = client_for(Role.DEVREL_LEAD)
    page = lead.get("/value/").content.decode()
    assert "connect a source or upload an archive first" in page and 'href="/listen/"' in page
    SourceFactory(name="Forum", kind=Source.Kind.DISCOURSE)
    assert "Your sources are connected but have no messages yet" in lead.get("/value/").content.decode()


def test_the_value_page_offers_the_recompute_when_sources_have_messages(client_for: Any, community: Community) -> None:
    page = client_for(Role.DEVREL_LEAD).get("/value/").content.decode()
    assert "Your sources have messages, but the figures have not been computed" in page
    assert "connect a source" not in page.lower() and "Recompute now" in page


def test_the_lead_recomputes_with_a_post(
    client_for: Any, community: Community, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for(Role.DEVREL_LEAD).post("/value/health/recompute/", {"next": "/value/channels/"})
    assert response.status_code == 302 and response["Location"] == "/value/channels/"
    assert HealthSnapshot.objects.get().status == HealthSnapshot.Status.QUEUED and len(callbacks) == 1
    assert client_for(Role.DEVREL_MEMBER).post("/value/health/recompute/").status_code == 403


def test_every_health_table_exports_as_csv(client_for: Any, computed: Community) -> None:
    client = client_for(Role.DEVREL_MEMBER)
    monthly = rows(client.get("/value/health/export/monthly.csv"))
    assert monthly[0][0] == "month" and monthly[1][0] == "2023-06" and len(monthly) == 12
    ttfr = {r[0]: r for r in rows(client.get("/value/health/export/response-times.csv"))}
    assert ttfr["2024-01"][5] == "25.0"  # the median column
    unanswered = rows(client.get("/value/health/export/unanswered.csv"))
    assert unanswered[2][3] == "<b>Nobody?</b>"
    for table in ("retention", "quarterly"):
        assert client.get(f"/value/health/export/{table}.csv").status_code == 200
    assert client.get("/value/health/export/nothing.csv").status_code == 404


def test_the_channels_page_runs_a_linkable_scenario(client_for: Any, computed: Community) -> None:
    client = client_for(Role.EXECUTIVE)
    query = {"window": "all", "retire": [computed.slack.pk], "to": computed.forum.pk}
    response = client.get("/value/channels/", query)
    assert response.status_code == 200
    scenario = response.context["scenario"]
    assert (scenario.affected, scenario.must_move, scenario.only_retired) == (2, 1, 1)
    page = response.content.decode()
    assert "Acme" in page and 'id="only-retired"' in page
    assert "Save scenario" not in page  # saving is the lead's
    assert rows(client.get("/value/channels/export/scenario.csv", query))[4] == ["must move", "1"]
    overlap = rows(client.get("/value/channels/export/overlap.csv", {"window": "all"}))
    assert overlap[0] == ["", "Empty list", "Forum", "Slack"] and overlap[2] == ["Forum", "0", "2", "1"]


def test_the_channels_page_reads_a_fixed_number_of_queries(client_for: Any, computed: Community) -> None:
    client = client_for(Role.DEVREL_LEAD)
    query = {"window": "all", "retire": [computed.slack.pk], "to": "new"}
    client.get("/value/channels/", query)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/value/channels/", query).status_code == 200
    assert len(queries) <= 14


def test_the_lead_saves_a_scenario_and_its_link_asks_the_same_question(client_for: Any, computed: Community) -> None:
    lead = client_for(Role.DEVREL_LEAD)
    response = lead.post(
        "/value/channels/scenarios/",
        {"name": "Fold Slack into the forum", "window": "all", "retire": [computed.slack.pk], "to": computed.forum.pk},
    )
    saved = ConsolidationScenario.objects.get()
    assert response.status_code == 302 and response["Location"] == saved.get_absolute_url()
    refused = lead.post(
        "/value/channels/scenarios/",
        {"name": "Loop", "retire": [computed.slack.pk], "to": computed.slack.pk},
    )
    assert refused.status_code == 302 and ConsolidationScenario.objects.count() == 1
    shown = client_for(Role.EXECUTIVE).get(saved.get_absolute_url())
    assert shown.status_code == 200 and shown.context["scenario"].must_move == 1
    assert "Fold Slack into the forum" in shown.content.decode()


def test_the_api_serves_the_same_figures(client_for: Any, computed: Community) -> None:
    client = client_for(Role.EXECUTIVE)
    health = client.get("/api/v1/value/health/", {"source": computed.forum.pk}).json()
    assert health["source_id"] == computed.forum.pk and health["figures"]["months"][0] == "2023-06"
    channels = client.get(
        "/api/v1/value/channels/", {"window": "all", "retire": computed.slack.pk, "to": computed.forum.pk}
    ).json()
    assert channels["scenario"]["must_move"] == 1
    assert channels["scenario"]["customers_at_risk"] == {str(computed.acme.pk): 1}
    assert client.get("/api/v1/value/channels/", {"window": "5y"}).status_code == 400
    assert client.post("/api/v1/value/scenarios/", {}, content_type="application/json").status_code == 403


def test_the_api_saves_scenarios_for_the_lead(client_for: Any, computed: Community) -> None:
    lead = client_for(Role.DEVREL_LEAD)
    created = lead.post(
        "/api/v1/value/scenarios/",
        {"name": "Retire the list", "retire": [computed.empty.pk], "destination": None, "window": "12m"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["url"] == f"/value/channels/scenarios/{created.json()['id']}/"
    bad = lead.post(
        "/api/v1/value/scenarios/",
        {"name": "Loop", "retire": [computed.slack.pk], "destination": computed.slack.pk},
        content_type="application/json",
    )
    assert bad.status_code == 400
