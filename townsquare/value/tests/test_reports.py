"""The report's life: build, curate, publish once to the sponsor, read it by role, correct it by revision."""

from __future__ import annotations

import logging
import subprocess
from typing import Any

import pytest
from django.test import Client

from townsquare.core.errors import TownsquareError
from townsquare.core.roles import Role
from townsquare.notify.models import Notification
from townsquare.notify.services import notifications_deliver_due
from townsquare.value import services
from townsquare.value.models import QuarterReport

from .corpus import HOSTILE_THEME, QUARTER, build_corpus

pytestmark = pytest.mark.django_db
HOSTILE_NARRATIVE = "We grew <script>alert('x')</script> & asked for <b>two</b> more advocates."


def pdf_text(content: bytes, tmp_path: Any) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    text = subprocess.run(["/usr/bin/pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(text.replace("\f", " \f ").split(" "))


def published(make_user: Any, **extra: Any) -> QuarterReport:
    build_corpus()
    report = services.value_report_build_draft(quarter=QUARTER)
    services.value_report_save(report=report, narrative=HOSTILE_NARRATIVE, notes={"feedback": "Note <i>x</i>"},
                               hidden=[])  # fmt: skip
    sponsor = make_user(Role.EXECUTIVE, username="erin")
    return services.value_report_publish(report=report, by=None, emails=[sponsor.email], **extra).report


def test_a_published_report_is_immutable_and_corrected_by_a_linked_revision(make_user) -> None:
    report = published(make_user)
    with pytest.raises(TownsquareError, match="published report cannot change"):
        services.value_report_save(report=report, narrative="rewritten", notes={}, hidden=[])
    with pytest.raises(TownsquareError, match="publish a correction instead"):
        services.value_report_build_draft(quarter=QUARTER)
    with pytest.raises(TownsquareError, match="say what the correction changes"):
        services.value_report_revise(report=report, by=None, correction_note=" ")
    revision = services.value_report_revise(report=report, by=None, correction_note="Sales points were wrong")
    assert (revision.revision, revision.supersedes, revision.status) == (2, report, QuarterReport.Status.DRAFT)
    assert revision.data == report.data and revision.narrative == report.narrative
    services.value_report_save(report=revision, narrative="Corrected.", notes={}, hidden=["credit"])
    services.value_report_build_draft(quarter=QUARTER)  # a correction's draft may take fresh figures
    report.refresh_from_db()
    assert report.narrative == HOSTILE_NARRATIVE  # the first revision never changed
    with pytest.raises(TownsquareError, match="already been corrected"):
        services.value_report_revise(report=report, by=None, correction_note="again")


def test_publishing_twice_sends_once_and_the_sponsor_gets_escaped_mail(make_user, smtp_server, settings) -> None:
    settings.EMAIL_URL = smtp_server.apprise_url
    report = published(make_user)
    again = services.value_report_publish(report=report, by=None, emails=["erin@example.com"])
    assert again.sent_now is False
    row = Notification.objects.get(event_key=f"value.published:{report.pk}")
    assert row.email == "erin@example.com"
    assert HOSTILE_NARRATIVE in row.body  # plain text carries the words as typed
    assert "<script>" not in row.body_html and "&lt;script&gt;" in row.body_html
    notifications_deliver_due()
    [mail] = smtp_server.wait_for(1)
    assert mail["Subject"] == f"DevRel value report, {QUARTER.label}"
    parts = {p.get_content_type(): p.get_content() for p in mail.walk() if not p.is_multipart()}
    assert "Themes addressed (release or docs): 2" in parts["text/plain"]
    assert "<b>two</b>" not in parts["text/html"]


def test_the_sponsor_reads_it_and_a_stakeholder_cannot(make_user, client_for) -> None:
    report = published(make_user)
    executive = client_for(Role.EXECUTIVE)
    page = executive.get(report.get_absolute_url())
    html = page.content.decode()
    assert page.status_code == 200
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "Kafka &lt;img src=x onerror=alert(1)&gt; drops &amp; loses" in html
    assert "Note &lt;i&gt;x&lt;/i&gt;" in html
    assert f'href="/intake/summary/?quarter={QUARTER.key}"' not in html  # links are the real page paths
    assert f'href="/requests/summary/?quarter={QUARTER.key}"' in html
    assert QUARTER.previous().label in html
    assert executive.get(f"/value/quarters/reports/{report.pk}/compare/").status_code == 200
    assert executive.get(f"/value/quarters/reports/{report.pk}/edit/").status_code == 403
    assert executive.post(f"/value/quarters/{QUARTER.key}/build/").status_code == 403
    stakeholder = client_for(Role.STAKEHOLDER_LEAD)
    assert stakeholder.get(report.get_absolute_url()).status_code == 403
    assert stakeholder.get("/api/v1/value/quarters/").status_code == 403
    assert Client().get(report.get_absolute_url()).status_code == 302


def test_an_executive_never_sees_a_draft(make_user, client_for) -> None:
    build_corpus()
    draft = services.value_report_build_draft(quarter=QUARTER)
    assert client_for(Role.EXECUTIVE).get(draft.get_absolute_url()).status_code == 404
    assert client_for(Role.DEVREL_MEMBER).get(draft.get_absolute_url()).status_code == 200


def test_the_pdf_and_the_deck_carry_the_figures_and_escape_community_text(make_user, client_for, tmp_path) -> None:
    report = published(make_user)
    client = client_for(Role.EXECUTIVE)
    pdf = client.get(f"/value/quarters/reports/{report.pk}/report.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    text = " ".join(pdf_text(pdf.content, tmp_path).split())
    assert "We grew <script>alert('x')</script> & asked for <b>two</b> more advocates." in text
    assert HOSTILE_THEME in text
    assert "Themes addressed (release or docs)" in text and "$600,000" in text
    assert f"{QUARTER.previous().label}: No team had a budget or filed a request" in text
    deck = client.get(f"/value/quarters/reports/{report.pk}/deck.pdf")
    slides = pdf_text(deck.content, tmp_path)
    assert slides.count("\f") >= 5  # cover, narrative, goals, then one chart per slide
    assert "33.3% of the points teams committed" in " ".join(slides.split())


def test_the_pdf_draws_its_charts_without_fetching_or_warning(make_user, caplog, tmp_path) -> None:
    from townsquare.value.views import report_deck_bytes, report_pdf_bytes

    report = published(make_user)
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf, deck = report_pdf_bytes(report), report_deck_bytes(report)
    # Inline SVG went through the page's CSS cascade: a warning per SVG property WeasyPrint's CSS lacks.
    assert [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")] == []
    assert b"/Subtype /Form" in pdf and b"/Subtype /Image" not in pdf  # the charts are vectors, not pixels
    assert "Themes reported and addressed, last four quarters" in " ".join(pdf_text(pdf, tmp_path).split())
    assert deck.startswith(b"%PDF")


def test_a_hidden_section_leaves_the_page_pdf_and_api(make_user, client_for) -> None:
    build_corpus()
    report = services.value_report_build_draft(quarter=QUARTER)
    services.value_report_save(report=report, narrative="n", notes={}, hidden=["credit"])
    client = client_for(Role.DEVREL_LEAD)
    assert "Work finished and the people who helped" not in client.get(report.get_absolute_url()).content.decode()
    figures = client.get(f"/api/v1/value/quarters/{QUARTER.key}/figures/").json()
    assert {f["section"] for f in figures} == {"feedback", "requests"}  # community: no snapshot, no figures
    with pytest.raises(TownsquareError, match="unknown section"):
        services.value_report_save(report=report, narrative="n", notes={"vibes": "x"}, hidden=[])


def test_the_lead_sets_goals_builds_curates_and_publishes_through_the_pages(make_user, client_for) -> None:
    build_corpus()
    sponsor = make_user(Role.EXECUTIVE, username="sponsor")
    lead = client_for(Role.DEVREL_LEAD)
    goals = f"/value/quarters/{QUARTER.key}/goals/"
    response = lead.post(
        goals, {"text": "Close gaps", "figure": "themes_addressed", "comparator": "gte", "target": "2"}
    )
    assert response.status_code == 302
    bad = lead.post(goals, {"text": "Vague", "comparator": "gte", "target": "2"})
    assert "a target needs a figure" in bad.content.decode()
    built = lead.post(f"/value/quarters/{QUARTER.key}/build/")
    report = QuarterReport.objects.get()
    assert built["Location"] == f"/value/quarters/reports/{report.pk}/edit/"
    lead.post(
        built["Location"], {"narrative": "A good quarter.", "note-requests": "Mentoring works.", "action": "save"}
    )
    page = lead.get(report.get_absolute_url()).content.decode()
    assert "A good quarter." in page and "Mentoring works." in page and "Met" in page
    lead.post(f"/value/quarters/reports/{report.pk}/publish/", {f"user-{sponsor.pk}": "1", "extra": "vp@example.com"})
    report.refresh_from_db()
    assert report.is_published and report.recipients == ["sponsor@example.com", "vp@example.com"]


def test_the_api_serves_the_report_and_its_figures_with_their_sources(make_user, client_for) -> None:
    report = published(make_user)
    client = client_for(Role.EXECUTIVE)
    [row] = client.get("/api/v1/value/quarters/").json()["results"]
    assert (row["quarter"], row["status"]) == (QUARTER.key, "published")
    detail = client.get(f"/api/v1/value/quarters/{QUARTER.key}/").json()
    assert detail["narrative"] == HOSTILE_NARRATIVE and detail["id"] == report.pk
    figures = {f["key"]: f for f in client.get(f"/api/v1/value/quarters/{QUARTER.key}/figures/").json()}
    assert figures["mentoring_share"]["value"] == 33.3 and figures["mentoring_share"]["previous"] is None
    assert figures["tasks_done"]["url"].endswith("/board/done/")
    assert client.get("/api/v1/value/quarters/1999Q1/").status_code == 404
    assert len(client.get("/api/v1/value/quarters/figures/").json()) >= 10


def test_the_quarter_end_task_drafts_the_quarter_that_just_ended() -> None:
    from townsquare.core.quarters import quarter_bounds
    from townsquare.value.tasks import build_value_report_task

    first_day = quarter_bounds(QUARTER.next())[0].replace(hour=7)
    report = services.value_report_build_ended_quarter(now=first_day)
    assert report is not None and report.quarter == QUARTER.key
    assert services.value_report_build_ended_quarter(now=first_day.replace(day=2)) is None
    assert build_value_report_task.func is not None
