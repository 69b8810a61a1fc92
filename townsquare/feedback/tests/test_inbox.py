"""The inbox that narrows down: filters, the Live view, ranking within a period, sorting, pages, CSV; the theme page."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from townsquare.feedback import selectors, services
from townsquare.feedback.models import Classification, CurationAction, Theme, ThemeMessage
from townsquare.feedback.tests.factories import (
    AccountFactory,
    ChannelFactory,
    IdentityFactory,
    MessageFactory,
    TeamFactory,
)
from townsquare.people.models import Identity

pytestmark = pytest.mark.django_db


def _theme(title: str, authors: list[Identity], *, days_ago: float, channel: Any, kind: str = "bug") -> Theme:
    """A theme of one message per author, ``days_ago`` old, refreshed as the pipeline would (no embeddings)."""
    theme = Theme.objects.create(title=title, status=Theme.Status.OPEN)
    for i, author in enumerate(authors):
        message = MessageFactory(
            body=f"{title} ({i})",
            author=author,
            channel=channel,
            created_at=timezone.now() - dt.timedelta(days=days_ago, hours=i),
        )
        Classification.objects.create(message=message, message_version=1, kind=kind, docs_gap=kind == "question")
        ThemeMessage.objects.create(theme=theme, message=message, similarity=0.9)
    services.theme_refresh(theme_ids=[theme.pk], phrases_too=False)
    theme.refresh_from_db()
    return theme


@pytest.fixture
def inbox(make_user: Any) -> dict[str, Any]:
    github = ChannelFactory(source__name="GitHub", name="acme/app issues")
    slack = ChannelFactory(source__name="Slack", name="#community")
    acme = AccountFactory(tier="enterprise", annual_revenue=500_000, name="Acme Corp", organization__name="Acme")
    ana = IdentityFactory(member__organization=acme.organization, member__display_name="Ana Acme")
    ben, cat, dee = IdentityFactory(), IdentityFactory(), IdentityFactory()
    recent = _theme("Webhook retries fail", [ben, cat], days_ago=1, channel=slack)
    old = _theme("SSO login loops", [ana, ben, cat], days_ago=400, channel=github, kind="feature")
    single = _theme("=HYPERLINK typo on the pricing page", [dee], days_ago=2, channel=slack, kind="question")
    routed = _theme("Dark mode for the dashboard", [dee], days_ago=3, channel=github, kind="praise")
    product = TeamFactory(name="Product")
    services.theme_route(theme=routed, department=product, by=make_user("devrel_member"))
    return {
        "github": github, "slack": slack, "acme": acme, "ana": ana, "ben": ben, "dee": dee, "product": product,
        "recent": recent, "old": old, "single": single, "routed": routed,
    }  # fmt: skip


def _titles(response: Any) -> list[str]:
    return [row.theme.title for row in response.context["themes"]]


def test_the_live_view_keeps_shared_or_curated_themes_and_lists_single_reports_apart(
    client_for: Any, inbox: dict[str, Any]
) -> None:
    client = client_for("stakeholder_member")
    response = client.get(reverse("feedback:index"))
    assert set(_titles(response)) == {"Webhook retries fail", "SSO login loops", "Dark mode for the dashboard"}
    assert response.context["total"] == 3
    assert "<strong>3</strong> themes" in response.content.decode()
    single = client.get(reverse("feedback:index"), {"view": "single"})
    assert _titles(single) == [inbox["single"].title]
    assert len(_titles(client.get(reverse("feedback:index"), {"view": "all"}))) == 4


def test_filters_combine_and_the_fragment_keeps_them_in_its_links(client_for: Any, inbox: dict[str, Any]) -> None:
    client = client_for("devrel_member")
    url = reverse("feedback:index")
    assert _titles(client.get(url, {"tier": "enterprise"})) == ["SSO login loops"]
    assert _titles(client.get(url, {"source": inbox["slack"].source.pk})) == ["Webhook retries fail"]
    assert _titles(client.get(url, {"kind": "feature", "source": inbox["slack"].source.pk})) == []
    assert _titles(client.get(url, {"kind": "feature", "source": inbox["github"].source.pk})) == ["SSO login loops"]
    assert _titles(client.get(url, {"department": inbox["product"].pk})) == ["Dark mode for the dashboard"]
    assert _titles(client.get(url, {"status": "routed"})) == ["Dark mode for the dashboard"]
    assert _titles(client.get(url, {"view": "single", "kind": "docs_gap"})) == [inbox["single"].title]
    assert _titles(client.get(url, {"kind": "nonsense", "tier": "enterprise"})) == ["SSO login loops"]
    fragment = client.get(url, {"tier": "enterprise", "sort": "-people"}, headers={"HX-Request": "true"})
    html = fragment.content.decode()
    assert "<html" not in html and 'id="fb-results"' in html
    assert "tier=enterprise" in html and "sort=people" in html  # a second click on People sorts ascending
    assert 'href="/feedback/export/?tier=enterprise&amp;sort=-people"' in html
    # The filter form stays outside what HTMX swaps; the list's view and sort come with each swap, tied to it.
    assert 'id="fb-filters"' not in html
    assert '<input type="hidden" name="sort" value="-people" form="fb-filters">' in html
    page = client.get(url, {"tier": "enterprise"}).content.decode()
    assert page.index('<form class="fb-filters"') < page.index('<div id="fb-results">')
    assert page.index("</form>", page.index('<form class="fb-filters"')) < page.index('<div id="fb-results">')


def test_past_the_recency_floor_old_themes_rank_by_people_below_recent_ones(inbox: dict[str, Any]) -> None:
    older = _theme(
        "Rate limits on the bulk API", [IdentityFactory() for _ in range(12)], days_ago=900, channel=inbox["github"]
    )
    assert older.score_parts["recency"] == inbox["old"].score_parts["recency"] == selectors.RECENCY_FLOOR
    # twelve people 900 days ago outrank three people (and a customer) 400 days ago, and both stay below this week's
    assert inbox["old"].score < older.score < inbox["recent"].score


def test_sortable_columns_order_the_inbox(client_for: Any, inbox: dict[str, Any]) -> None:
    client = client_for("devrel_member")
    url = reverse("feedback:index")
    people = [r.people for r in client.get(url, {"sort": "-people"}).context["themes"]]
    assert people == sorted(people, reverse=True) and people[0] == 3
    seen = [r.last_seen for r in client.get(url, {"sort": "last_seen", "view": "all"}).context["themes"]]
    assert seen == sorted(seen) and seen[0] == inbox["old"].last_seen
    messages = [r.messages for r in client.get(url, {"sort": "messages"}).context["themes"]]
    assert messages == sorted(messages)


def test_a_period_ranks_an_imported_history_by_people_and_customers(client_for: Any, inbox: dict[str, Any]) -> None:
    old = inbox["old"]
    # Stored: 400 days of silence leave the recency floor, so an old history still ranks by people and customers
    assert old.score_parts["recency"] == selectors.RECENCY_FLOOR
    assert 0.05 * 8 < old.score < 0.05 * 12 < inbox["recent"].score
    client = client_for("devrel_member")
    until = (timezone.now() - dt.timedelta(days=399)).date()
    response = client.get(reverse("feedback:index"), {"since": "2000-01-01", "until": until.isoformat()})
    (row,) = response.context["themes"]
    assert row.theme.pk == old.pk and (row.people, row.customers, row.channels, row.messages) == (3, 1, 1, 3)
    # The period's end is "now": the theme was last seen within a day of it, so recency is about 1.
    assert row.parts["recency"] > 0.9 and row.score > 8  # 3 people + enterprise 5 + revenue log10(51)
    assert "ranked within 2000-01-01" in response.content.decode()
    # All time to today: both themes are counted; the old one loses on recency but is still ranked by its figures.
    response = client.get(reverse("feedback:index"), {"since": "2000-01-01", "sort": "-customers"})
    assert _titles(response)[0] == "SSO login loops"


def test_the_inbox_counts_and_pages(client_for: Any, inbox: dict[str, Any]) -> None:
    people = [IdentityFactory() for _ in range(2)]
    for i in range(55):
        _theme(f"Paged theme {i}", people, days_ago=5, channel=inbox["github"])
    client = client_for("devrel_member")
    first = client.get(reverse("feedback:index"))
    assert first.context["total"] == 58 and len(first.context["themes"]) == 50
    second = client.get(reverse("feedback:index"), {"page": 2})
    assert len(second.context["themes"]) == 8
    assert not {r.theme_id for r in first.context["themes"]} & {r.theme_id for r in second.context["themes"]}
    assert "page 2 of 2" in second.content.decode()


def test_the_inbox_makes_the_same_queries_for_3_or_30_themes(client_for: Any, inbox: dict[str, Any]) -> None:
    client = client_for("devrel_member")
    filtered = {"tier": "enterprise", "kind": "feature", "source": inbox["github"].source.pk, "view": "all"}
    dated = {"since": "2000-01-01", "view": "all", "sort": "-people"}

    def queries(params: dict[str, Any]) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("feedback:index"), params).status_code == 200
        return len(captured)

    before = [queries(p) for p in ({}, filtered, dated)]
    acme_people = [IdentityFactory(member__organization=inbox["acme"].organization) for _ in range(3)]
    for i in range(27):
        _theme(f"More {i}", acme_people, days_ago=i, channel=inbox["github"], kind="feature")
    after = [queries(p) for p in ({}, filtered, dated)]
    assert after == before
    assert max(after) <= 12


def test_the_csv_export_follows_the_filters(client_for: Any, inbox: dict[str, Any]) -> None:
    client = client_for("stakeholder_member")
    response = client.get(reverse("feedback:export"), {"view": "all", "source": inbox["slack"].source.pk})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["id", "title", "url"]
    assert [r[1] for r in rows[1:]] == ["Webhook retries fail", "'=HYPERLINK typo on the pricing page"]
    assert rows[1][6] == "2"  # people
    dated = client.get(reverse("feedback:export"), {"since": "2000-01-01", "tier": "enterprise"})
    lines = b"".join(dated.streaming_content).decode().splitlines()
    assert len(lines) == 2 and "SSO login loops" in lines[1]


def test_the_theme_page_names_customers_and_people_with_links(client_for: Any, inbox: dict[str, Any]) -> None:
    response = client_for("devrel_member").get(reverse("feedback:theme", args=[inbox["old"].pk]))
    html = response.content.decode()
    assert "Acme Corp" in html and "Enterprise" in html and "500,000" in html
    member = inbox["ana"].member
    assert f'href="{reverse("people:member", args=[member.pk])}"' in html
    assert len(response.context["people"]) == 3 and len(response.context["customers"]) == 1
    assert html.count('class="panel fb-curate"') == 1 and "<details" in html


def test_move_searches_themes_and_merge_keeps_the_chosen_survivor(client_for: Any, inbox: dict[str, Any]) -> None:
    client = client_for("devrel_member")
    old, recent = inbox["old"], inbox["recent"]
    found = client.get(reverse("feedback:theme-search"), {"q": "webhook", "exclude": old.pk}).content.decode()
    assert f'value="{recent.pk}"' in found and "SSO login" not in found
    assert "SSO" not in client.get(reverse("feedback:theme-search"), {"q": "sso", "exclude": old.pk}).content.decode()
    assert f'value="{old.pk}"' in client.get(reverse("feedback:theme-search"), {"q": f"#{old.pk}"}).content.decode()
    message = old.assignments.first().message
    client.post(reverse("feedback:theme-action", args=[old.pk, "move"]), {"message": message.pk, "theme": recent.pk})
    assert ThemeMessage.objects.get(message=message).theme_id == recent.pk
    # From the theme page: keep "the other" one.
    response = client.post(
        reverse("feedback:merge"), {"themes": [old.pk, recent.pk], "current": old.pk, "keep": "other"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("feedback:theme", args=[recent.pk])
    old.refresh_from_db()
    assert old.status == Theme.Status.MERGED and old.merged_into_id == recent.pk
    assert CurationAction.objects.filter(action="merge").count() == 1


def test_the_theme_page_reads_its_messages_in_one_query_whatever_their_number(
    client_for: Any, inbox: dict[str, Any]
) -> None:
    client = client_for("devrel_member")

    def queries(theme: Theme) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("feedback:theme", args=[theme.pk])).status_code == 200
        reads = [q["sql"] for q in captured if 'FROM "feedback_thememessage"' in q["sql"]]
        return len(reads), len(captured)

    small = queries(inbox["recent"])
    people = [IdentityFactory(member__organization=inbox["acme"].organization) for _ in range(30)]
    big = _theme("Thirty people", people, days_ago=2, channel=inbox["github"])
    assert queries(big) == small
    assert small[0] == 1
    response = client.get(reverse("feedback:theme", args=[big.pk]))
    assert len(response.context["rows"]) == 30 and len(response.context["quotes"]) == 5
    assert len(response.context["threads"]) == 30


def test_the_themes_api_takes_the_inbox_filters_and_gives_the_inbox_order(
    client_for: Any, inbox: dict[str, Any]
) -> None:
    client = client_for("executive")
    api = "/api/v1/feedback/themes/"
    everything = client.get(api).json()
    assert everything["count"] == 4  # without a view: every live theme, as the API always listed them
    cases: list[dict[str, Any]] = [
        {"tier": "enterprise"},
        {"source": inbox["slack"].source.pk, "view": "all"},
        {"kind": "feature", "source": inbox["github"].source.pk},
        {"kind": "docs_gap", "view": "single"},
        {"department": inbox["product"].pk},
        {"view": "live", "sort": "-people"},
        {"since": "2000-01-01", "view": "all", "sort": "-customers"},
    ]
    for params in cases:
        page = [r.theme_id for r in client.get(reverse("feedback:index"), params).context["themes"]]
        listed = client.get(api, params).json()
        assert [r["id"] for r in listed["results"]] == page, params
        assert listed["count"] == len(page)
    dated = client.get(api, {"since": "2000-01-01", "until": (timezone.now() - dt.timedelta(days=399)).date()}).json()
    (old,) = dated["results"]
    assert old["id"] == inbox["old"].pk and old["people_count"] == 3 and old["score"] > 8  # the period's figures


def test_the_schema_documents_the_themes_filters_without_warnings(tmp_path: Any) -> None:
    out = tmp_path / "schema.json"
    call_command("spectacular", "--fail-on-warn", "--format", "openapi-json", "--file", str(out))
    operation = json.loads(out.read_text())["paths"]["/api/v1/feedback/themes/"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert {"view", "kind", "source", "department", "tier", "status", "since", "until", "sort"} <= set(params)
    assert "docs_gap" in params["kind"]["schema"]["enum"] and params["since"]["schema"]["format"] == "date"
    assert params["tier"]["description"]
