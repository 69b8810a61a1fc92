"""The newsletter pages and API: roles, candidates from board and feedback, exports with hostile text."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from townsquare.board.models import Column, Label, Task
from townsquare.feedback.models import Theme
from townsquare.updates.models import DroppedLink, Newsletter, NewsletterSection
from townsquare.updates.newsletter_export import markdown_url, newsletter_html, newsletter_markdown
from townsquare.updates.selectors import newsletter as selectors
from townsquare.updates.services import newsletter as services

pytestmark = pytest.mark.django_db
HOSTILE_TITLE = (
    "<img src=x onerror=alert(1)> [click](javascript:alert(1)) ![pic](https://evil.example/p.png) **bold** @channel"
)
HOSTILE_BODY = "# Heading\n- list\n1. one\n<script>alert(1)</script>\n\n> quote `code` <b>b</b>"


def issue(by: Any) -> Newsletter:
    today = timezone.localdate()
    return services.newsletter_create(
        title="December issue", period_start=today - dt.timedelta(days=30), period_end=today, by=by
    )


def test_pages_need_a_login(client: Any, db: None) -> None:
    for url in ("/updates/links/", "/updates/newsletter/"):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize("role", ["devrel_member", "stakeholder_member", "executive"])
def test_every_reader_reads_links_and_issues(client_for: Any, marketer: Any, role: str) -> None:
    newsletter = issue(marketer)
    client = client_for(role)
    for url in ("/updates/links/", "/updates/newsletter/", f"/updates/newsletter/{newsletter.pk}/"):
        assert client.get(url).status_code == 200
    assert client.get(f"/updates/newsletter/{newsletter.pk}/export/").status_code == 200


def test_an_executive_cannot_drop_a_link(client_for: Any) -> None:
    client = client_for("executive")
    response = client.post("/updates/links/", {"url": "https://example.com/", "note": "hi"})
    assert response.status_code == 403
    assert DroppedLink.objects.count() == 0


def test_the_form_drops_a_link_and_shows_refusals(client_for: Any) -> None:
    client = client_for("stakeholder_member", team="Sales")
    response = client.post("/updates/links/", {"url": "https://example.com/a", "note": "A good read"})
    assert response.status_code == 302
    response = client.post("/updates/links/", {"url": "https://example.com/a/", "note": "again"})
    assert response.status_code == 200
    assert "already dropped by" in response.content.decode()
    response = client.post("/updates/links/", {"url": "data:text/html,<b>x</b>", "note": "bad"})
    assert "only http:// and https:// links can be dropped" in response.content.decode()
    assert DroppedLink.objects.count() == 1


def test_the_link_list_escapes_hostile_notes_and_titles(client_for: Any) -> None:
    client = client_for("executive")
    DroppedLink.objects.create(url="https://example.com/h", url_key="k", title=HOSTILE_TITLE, note=HOSTILE_BODY)
    page = client.get("/updates/links/").content.decode()
    assert "<img src=x" not in page and "<script>alert(1)" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'id="drop-form"' not in page


def test_a_stakeholder_who_is_not_the_marketer_cannot_start_or_edit(client_for: Any, marketer: Any) -> None:
    newsletter = issue(marketer)
    client = client_for("stakeholder_member", team="Sales")
    assert (
        client.post(
            "/updates/newsletter/", {"title": "x", "period_start": "2026-01-01", "period_end": "2026-01-31"}
        ).status_code
        == 403
    )
    assert client.post(f"/updates/newsletter/{newsletter.pk}/sections/", {"new-heading": "Mine"}).status_code == 403
    devrel = client_for("devrel_member")
    assert devrel.post(f"/updates/newsletter/{newsletter.pk}/sections/", {"new-heading": "Mine"}).status_code == 403
    assert NewsletterSection.objects.count() == 0


def test_a_stakeholder_cannot_review(client_for: Any, marketer: Any) -> None:
    newsletter = issue(marketer)
    services.section_add(newsletter=newsletter, heading="A", by=marketer)
    services.newsletter_request_review(newsletter=newsletter, by=marketer)
    client = client_for("stakeholder_member", team="Sales")
    response = client.post(f"/updates/newsletter/{newsletter.pk}/decision/", {"decision": "approve"})
    assert response.status_code == 403
    newsletter.refresh_from_db()
    assert newsletter.status == Newsletter.Status.IN_REVIEW


def test_the_marketer_builds_from_links_releases_content_and_threads(client: Any, marketer: Any, seller: Any) -> None:
    now = timezone.now()
    link = services.link_drop(url="https://example.com/post", note="Customers keep sharing it", by=seller)
    release = Task.objects.create(title="Release 2.4", column=Column.DONE, done_at=now, description="Faster.")
    release.labels.add(Label.objects.create(name="release", slug="release"))
    Task.objects.create(title="Kafka tutorial", column=Column.DONE, done_at=now)
    Task.objects.create(title="Old talk", column=Column.DONE, done_at=now - dt.timedelta(days=90))
    Theme.objects.create(
        title="Webhooks retry twice",
        status=Theme.Status.ADDRESSED,
        title_curated=True,
        people_count=14,
        first_seen=now - dt.timedelta(days=10),
        last_seen=now,
        addressed_at=now,
        addressed_release="2.4",
    )
    Theme.objects.create(title="Uncurated noise", people_count=40, first_seen=now, last_seen=now)
    newsletter = issue(marketer)
    groups = selectors.newsletter_candidates(newsletter)
    assert [c.heading for c in groups["links"]] == ["https://example.com/post"]
    assert [c.heading for c in groups["releases"]] == ["Release 2.4", "2.4: Webhooks retry twice"]
    assert [c.heading for c in groups["content"]] == ["Kafka tutorial"]
    assert [(c.heading, c.detail) for c in groups["threads"]] == [("Webhooks retry twice", "14 people · answered")]

    client.force_login(marketer)
    page = client.get(f"/updates/newsletter/{newsletter.pk}/").content.decode()
    assert "Customers keep sharing it" not in page  # the note becomes the text once added
    for key in (f"link:{link.pk}", f"task:{release.pk}", groups["threads"][0].source_key):
        assert client.post(f"/updates/newsletter/{newsletter.pk}/sections/", {"source_key": key}).status_code == 302
    sections = selectors.newsletter_sections(newsletter)
    assert [(s.kind, s.heading) for s in sections] == [
        ("link", "https://example.com/post"),
        ("release", "Release 2.4"),
        ("thread", "Webhooks retry twice"),
    ]
    assert sections[0].link == link and sections[0].body == "Customers keep sharing it"
    assert f"link:{link.pk}" not in [c.source_key for c in selectors.newsletter_candidates(newsletter)["links"]]
    response = client.post(f"/updates/newsletter/{newsletter.pk}/sections/", {"source_key": f"link:{link.pk}"})
    assert response.status_code == 404
    client.post(f"/updates/newsletter/{newsletter.pk}/sections/{sections[2].pk}/move/", {"direction": "up"})
    assert [s.kind for s in selectors.newsletter_sections(newsletter)] == ["link", "thread", "release"]


def test_the_detail_page_has_a_bounded_number_of_queries(
    client: Any, marketer: Any, django_assert_max_num_queries: Any
) -> None:
    newsletter = issue(marketer)
    for n in range(20):
        services.section_add(newsletter=newsletter, heading=f"Section {n}", body="text", by=marketer)
    client.force_login(marketer)
    with django_assert_max_num_queries(30):
        assert client.get(f"/updates/newsletter/{newsletter.pk}/").status_code == 200


def test_exports_escape_hostile_community_text(marketer: Any, seller: Any) -> None:
    newsletter = issue(marketer)
    link = services.link_drop(url="https://example.com/x?a=(1)&b=<2>", note=HOSTILE_TITLE, by=seller)
    DroppedLink.objects.filter(pk=link.pk).update(title=HOSTILE_TITLE)
    services.section_add(
        newsletter=newsletter, heading=HOSTILE_TITLE, body=HOSTILE_BODY, url=link.url, link=link, by=marketer
    )
    sections = selectors.newsletter_sections(newsletter)

    html = newsletter_html(newsletter, sections)
    assert "<img" not in html and "<script" not in html and "<b>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<a href="https://example.com/x?a=%281%29&amp;b=%3C2%3E">' in html

    markdown = newsletter_markdown(newsletter, sections)
    heading = next(line for line in markdown.splitlines() if line.startswith("## "))
    # The whole heading is the link's text: no nested link, image or HTML survives as markup.
    assert heading.startswith("## [\\<img src=x onerror=alert(1)\\> \\[click\\](javascript:alert(1)) !\\[pic\\]")
    assert heading.endswith("](https://example.com/x?a=%281%29&b=%3C2%3E)")
    assert "\\*\\*bold\\*\\*" in heading and "@\u2060channel" in heading
    assert "\n\\# Heading" in markdown and "\n\\- list" in markdown and "\n1\\. one" in markdown
    assert "\\<script\\>" in markdown and "\\`code\\`" in markdown
    assert markdown_url("https://e.com/a b(c)<d>") == "https://e.com/a%20b%28c%29%3Cd%3E"


def test_the_export_page_escapes_and_offers_copy_buttons(client: Any, marketer: Any) -> None:
    newsletter = issue(marketer)
    services.section_add(newsletter=newsletter, heading=HOSTILE_TITLE, body=HOSTILE_BODY, by=marketer)
    client.force_login(marketer)
    response = client.get(f"/updates/newsletter/{newsletter.pk}/export/")
    page = response.content.decode()
    assert "<img src=x" not in page and "<script>alert" not in page
    assert 'data-copy="export-markdown"' in page and "updates/newsletter.js" in page
    assert "script-src 'self'" in response["Content-Security-Policy"]
    download = client.get(f"/updates/newsletter/{newsletter.pk}/export.md")
    assert download["Content-Type"].startswith("text/markdown")
    assert download.content.decode() == newsletter_markdown(newsletter, selectors.newsletter_sections(newsletter))
    html = client.get(f"/updates/newsletter/{newsletter.pk}/export.html")
    assert html["Content-Security-Policy"].startswith("default-src 'none'")
    assert client.get(f"/updates/newsletter/{newsletter.pk}/export.exe").status_code == 404
    detail = client.get(f"/updates/newsletter/{newsletter.pk}/").content.decode()
    assert "<img src=x" not in detail and "&lt;img src=x onerror=alert(1)&gt;" in detail


def test_the_api_drops_lists_and_reads(client_for: Any, marketer: Any) -> None:
    client = client_for("stakeholder_member", team="Support")
    response = client.post("/api/v1/updates/links/", {"url": "https://example.com/api", "note": "from a script"})
    assert response.status_code == 201, response.content
    assert response.json()["via"] == "api"
    response = client.post("/api/v1/updates/links/", {"url": "https://example.com/api/", "note": "again"})
    assert response.status_code == 400
    assert "already dropped" in response.json()["detail"]
    assert client.post("/api/v1/updates/links/", {"url": "ftp://example.com/", "note": "x"}).status_code == 400
    assert client.get("/api/v1/updates/links/").json()["count"] == 1
    newsletter = issue(marketer)
    services.section_add(newsletter=newsletter, heading="Hello *world*", body="Text", by=marketer)
    detail = client.get(f"/api/v1/updates/newsletters/{newsletter.pk}/").json()
    assert [s["heading"] for s in detail["sections"]] == ["Hello *world*"]
    assert "## Hello \\*world\\*" in detail["markdown"]
    assert client.get("/api/v1/updates/newsletters/").json()["count"] == 1
    assert client.get("/api/v1/updates/newsletters/devrel-share/").json()[0]["share"] == 0.0


def test_the_api_refuses_executives_a_drop(client_for: Any) -> None:
    client = client_for("executive")
    assert client.get("/api/v1/updates/links/").status_code == 200
    assert client.post("/api/v1/updates/links/", {"url": "https://example.com/", "note": "x"}).status_code == 403
