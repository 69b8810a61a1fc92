from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from townsquare.core.feeds import feed_token_issue
from townsquare.core.roles import Role
from townsquare.people.models import Team
from townsquare.reports import services
from townsquare.reports.models import Report
from townsquare.reports.tests.factories import MONDAY, facts

pytestmark = pytest.mark.django_db


@pytest.fixture
def product() -> Team:
    return Team.objects.create(name="Product", slug="product", kind=Team.Kind.PRODUCT)


def published(product: Team, week: dt.date = MONDAY, *items) -> Report:  # type: ignore[no-untyped-def]
    report = services.report_build_draft(
        week_start=week, department=product, facts=items or [facts("Kafka connector drops messages", theme_id=1)]
    )
    services.report_publish(report=report, by=None)
    report.refresh_from_db()
    return report


def test_a_stakeholder_reads_a_published_report_with_escaped_quotes_and_source_links(client_for, product) -> None:
    report = published(product, MONDAY, facts("<b>bold</b> theme", theme_id=1, note="<script>x()</script> renewals"))
    page = client_for(Role.STAKEHOLDER_MEMBER).get(report.get_absolute_url()).content.decode()
    assert "&lt;b&gt;bold&lt;/b&gt; theme" in page
    assert "<script>x()</script>" not in page
    assert 'href="https://chat.example.com/m/0"' in page
    assert "Why this matters now" in page


def test_stakeholders_cannot_see_drafts_but_devrel_can(client_for, product) -> None:
    draft = services.report_build_draft(week_start=MONDAY, department=product, facts=[facts()])
    assert client_for(Role.STAKEHOLDER_MEMBER).get(draft.get_absolute_url()).status_code == 404
    assert client_for(Role.DEVREL_MEMBER).get(draft.get_absolute_url()).status_code == 200


def test_an_item_has_a_permanent_link(client_for, product) -> None:
    report = published(product)
    response = client_for(Role.EXECUTIVE).get(f"/reports/{report.pk}/items/1/")
    assert response.status_code == 200
    assert "Kafka connector drops messages" in response.content.decode()
    assert "Source threads (3)" in response.content.decode()


def test_the_pdf_export_is_a_pdf(client_for, product) -> None:
    report = published(product)
    response = client_for(Role.STAKEHOLDER_LEAD).get(f"/reports/{report.pk}/pdf/")
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert len(response.content) > 2000


def test_the_archive_finds_last_months_report_by_search_and_department(client_for, product) -> None:
    old = published(product, MONDAY - dt.timedelta(weeks=4), facts("Docs search is broken", theme_id=7))
    published(product, MONDAY, facts("Kafka connector drops messages", theme_id=1))
    client = client_for(Role.STAKEHOLDER_MEMBER)
    page = client.get("/reports/?q=docs+search").content.decode()
    assert old.iso_week in page and "2026-W47" not in page
    fragment = client.get("/reports/?department=product", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and old.iso_week in fragment


def test_what_changed_since_last_week(client_for, product) -> None:
    published(product, MONDAY - dt.timedelta(weeks=1), facts("Kafka", theme_id=1, people=3), facts("Gone", theme_id=2))
    report = published(product, MONDAY, facts("Kafka", theme_id=1, people=6), facts("Fresh", theme_id=3))
    page = client_for(Role.STAKEHOLDER_MEMBER).get(f"/reports/{report.pk}/changes/").content.decode()
    assert "New this week" in page and "No longer reported" in page and "More people" in page


def test_a_curator_edits_reorders_and_publishes_from_the_draft_page(client_for, product) -> None:
    client = client_for(Role.DEVREL_MEMBER)
    report = services.report_build_draft(
        week_start=MONDAY, department=product, facts=[facts("A", theme_id=1, score=2), facts("B", theme_id=2, score=1)]
    )
    a, b = report.items.order_by("position")
    client.post(
        f"/reports/{report.pk}/edit/",
        {
            "action": f"down:{a.pk}",
            f"title-{a.pk}": "A renamed",
            f"note-{a.pk}": "Matters.",
            f"title-{b.pk}": "B",
            f"note-{b.pk}": "",
        },
    )
    assert [(i.title, i.note) for i in report.items.order_by("position")] == [("B", ""), ("A renamed", "Matters.")]
    response = client.post(f"/reports/{report.pk}/publish/", follow=True)
    assert "Published." in response.content.decode()
    again = client.post(f"/reports/{report.pk}/publish/", follow=True)
    assert "already published" in again.content.decode()
    assert client.get(f"/reports/{report.pk}/edit/").status_code == 404


def test_the_atom_feed_accepts_a_signed_token_instead_of_a_session(client, make_user, product) -> None:
    reader = make_user(Role.STAKEHOLDER_MEMBER)
    published(product)
    assert client.get("/reports/feed/product/").status_code == 403
    token = feed_token_issue(user=reader)
    response = client.get(f"/reports/feed/product/?token={token}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    assert "Kafka connector drops messages" in response.content.decode()


def test_the_unsubscribe_link_works_without_logging_in(client, make_user, product) -> None:
    member = make_user(Role.STAKEHOLDER_MEMBER)
    services.subscription_toggle(user=member, department=product, subscribe=True)
    report = published(product)
    token = services.unsubscribe_token(report=report, email=member.email)
    assert "Stop receiving" in client.get(f"/reports/unsubscribe/{token}/").content.decode()
    done = client.post(f"/reports/unsubscribe/{token}/").content.decode()
    assert "will no longer receive the Product report" in done
    assert services.report_recipients(report=report) == []


def test_a_lead_subscribes_the_whole_team(client, make_user, product) -> None:
    lead = make_user(Role.STAKEHOLDER_LEAD, team="Sales", is_lead=True)
    colleague = make_user(Role.STAKEHOLDER_MEMBER, team="Sales")
    client.force_login(lead)
    sales = Team.objects.get(slug="sales")
    client.post("/reports/subscriptions/", {"department": product.pk, "team": sales.pk, "subscribe": "1"})
    report = services.report_build_draft(week_start=MONDAY, department=product, facts=[facts()])
    assert services.report_recipients(report=report) == sorted([lead.email, colleague.email])
    client.force_login(colleague)
    response = client.post(
        "/reports/subscriptions/", {"department": product.pk, "team": sales.pk, "subscribe": "0"}, follow=True
    )
    assert "Only a lead of Sales" in response.content.decode()


def test_the_api_lists_published_reports_and_reads_their_items(client, make_user, product) -> None:
    from rest_framework.authtoken.models import Token

    reader = make_user(Role.STAKEHOLDER_MEMBER)
    token = Token.objects.create(user=reader)
    report = published(product)
    draft = services.report_build_draft(week_start=MONDAY + dt.timedelta(weeks=1), department=product, facts=[facts()])
    listing = client.get("/api/v1/reports/?department=product", HTTP_AUTHORIZATION=f"Token {token.key}").json()
    assert [r["id"] for r in listing["results"]] == [report.pk]  # the draft is DevRel's only
    detail = client.get(f"/api/v1/reports/{report.pk}/", HTTP_AUTHORIZATION=f"Token {token.key}").json()
    assert detail["iso_week"] == "2026-W47"
    assert detail["items"][0]["people_count"] == 5
    assert detail["items"][0]["quotes"][0]["url"] == "https://chat.example.com/m/0"
    assert client.get(f"/api/v1/reports/{draft.pk}/", HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 404


class _Tags(HTMLParser):
    """What a feed reader would build from a type="html" summary: its tags and its visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text += data


def test_the_atom_feed_escapes_hostile_titles_quotes_and_notes(client, make_user, product) -> None:
    hostile = "<script>alert(\"t\")</script> 'quoted' & <img src=x onerror=alert(1)>"
    note = '<iframe src="//evil.example"></iframe> "why" & <b>now</b>'
    published(product, MONDAY, facts(hostile, theme_id=1, note=note))
    response = client.get(f"/reports/feed/product/?token={feed_token_issue(user=make_user(Role.STAKEHOLDER_MEMBER))}")
    ns = {"a": "http://www.w3.org/2005/Atom"}
    [entry] = ET.fromstring(response.content).findall("a:entry", ns)
    summary = entry.find("a:summary", ns)
    assert summary is not None and summary.attrib["type"] == "html"
    parsed = _Tags()
    parsed.feed(summary.text or "")
    assert set(parsed.tags) <= {"ol", "li", "p"}  # only our markup: no script, img, iframe or b from community text
    assert hostile in parsed.text and note in parsed.text  # the reader shows the words, quotes and all
