"""Issue 19's "Done when" in a real browser: the lead sets two goals, builds, writes and publishes last quarter's
value report, which reaches the sponsor's inbox with its key charts inline; the executive reads it, compares it
with the quarter before and downloads the PDF and the deck.

``TOWNSQUARE_SCREENSHOTS=1`` writes value-report-page.png and the PDF and deck pages (pdftoppm) as
value-report-pdf-<n>.png and value-report-deck-<n>.png to docs/screenshots/.

Expected figures are counted by hand from townsquare/value/demo.py's HISTORY and TASKS (last quarter):
requests taken on: Marketing's writing mentoring, Sales' two demos, Support's community mentoring,
Engineering's integration tutorial, Product's metrics pull = 6, of which 4 done (mentoring ones stay
"redirected to mentoring"); points 1 + 2 + 2 + 1 + 5 + 2 = 13, mentoring 1 + 1 = 2: share 2/13 = 15.4 %. The
quarter before: blog posts 3 + 3, Q&A 1, demo 2, docs review 1, no mentoring: 0 %. Marketing filed blog posts
before its writing mentoring and none since; Support held a Q&A session the quarter before and then had
"answering the community" mentoring, the mentoring alternative of Q&A sessions, and filed none since: 2. Board: 4 tasks finished, each with one
credited colleague (Eli, Sam, Priya, Sofia), 2 thank-yous: 4 colleagues from 4 teams.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from townsquare.core.quarters import current_quarter
from townsquare.notify.models import Notification
from townsquare.notify.services import notification_deliver
from townsquare.testing.browser import REPO_ROOT
from townsquare.value.models import QuarterReport

from . import GROUP

pytestmark = [pytest.mark.xdist_group(GROUP), pytest.mark.browser, pytest.mark.django_db]
NARRATIVE = (
    "DevRel spent this quarter teaching as much as doing. Marketing now writes its own tutorials after one "
    "writing mentorship, Support answers the forum's Kafka threads itself, and engineers and sales people "
    "were credited on every launch we shipped.\n\nWhat we ask for: keep the 15-point budgets, and fund one more "
    "advocate so mentoring can reach Sales and Customer Success next quarter."
)

FETCH_BYTES = """async (url) => {
  const response = await fetch(url);
  const bytes = new Uint8Array(await response.arrayBuffer());
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return [response.status, response.headers.get("content-type"), btoa(text)];
}"""


def figure(page: Any, section: str, label: str) -> str:
    row = page.locator(f"#section-{section} tr", has=page.locator("th", has_text=label)).first
    return str(row.locator("td").first.inner_text())


def to_png(pdf: Path, prefix: str) -> list[Path]:
    target = REPO_ROOT / "docs" / "screenshots" if os.environ.get("TOWNSQUARE_SCREENSHOTS") == "1" else pdf.parent
    subprocess.run(["/usr/bin/pdftoppm", "-png", "-r", "70", str(pdf), str(target / prefix)], check=True)
    return sorted(target.glob(f"{prefix}-*.png"))


def text_of(pdf: Path) -> str:
    out = subprocess.run(["/usr/bin/pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(out.split())


def test_the_lead_publishes_last_quarters_report_and_the_executive_reads_compares_and_downloads_it(
    demo_web: Any, demo_site_client: Client, tmp_path: Path, smtp_server: Any, settings: Any
) -> None:
    page = demo_web.page
    last, before = current_quarter().previous(), current_quarter().previous().previous()
    users = get_user_model().objects
    demo_site_client.force_login(users.get(username="dana"))

    # The lead sets two goals for last quarter.
    assert demo_web.goto("/value/").status == 200
    page.click("a[href='/value/quarters/']")
    page.click(f"text=Goals for {last.label}")
    for text, serves, figure_key, target in (
        ("Teach teams to do their own content", "Scale DevRel without growing headcount", "mentoring_share", "10"),
        ("Put our helpers in front of their managers", "One company, one community", "collaborators_credited", "3"),
    ):
        page.fill("#id_text", text)
        page.fill("#id_company_goal", serves)
        page.select_option("#id_figure", figure_key)
        page.select_option("#id_comparator", "gte")
        page.fill("#id_target", target)
        page.click("button[value=add]")
        page.wait_for_selector(f"th:has-text('{text}')")

    # Builds the draft from the demo data, writes the narrative and a note, publishes to the sponsor.
    assert demo_web.goto("/value/quarters/").status == 200
    page.click(f"text=Build the {last.label} draft")
    page.wait_for_url("**/edit/")
    page.fill("#id_narrative", NARRATIVE)
    page.fill("#note-requests", "Marketing's writing mentorship paid off: no blog-post request since.")
    page.click("button[value=publish]")
    page.wait_for_url("**/publish/")
    page.click("text=Publish and send")
    page.wait_for_selector("text=Published.")
    report = QuarterReport.objects.get(quarter=last.key)
    assert report.is_published and report.recipients == ["erin@example.com"]
    email = Notification.objects.get(event_key=f"value.published:{report.pk}", email="erin@example.com")
    assert demo_web.console_errors == []

    # The sponsor's email arrives at the local SMTP server with the key charts as inline PNG images.
    settings.EMAIL_URL = smtp_server.apprise_url
    assert notification_deliver(notification_id=email.pk) == Notification.Status.SENT
    [mail] = smtp_server.wait_for(1)
    html = next(p.get_content() for p in mail.walk() if p.get_content_type() == "text/html")
    images = {p["Content-ID"].strip("<>"): p for p in mail.walk() if p.get_content_type() == "image/png"}
    referenced = re.findall(r'<img src="cid:([^"]+)"', html)
    assert mail.get_content_type() == "multipart/related" and referenced and set(referenced) == set(images)
    if os.environ.get("TOWNSQUARE_SCREENSHOTS") == "1":
        png = images[referenced[0]].get_payload(decode=True)
        (REPO_ROOT / "docs" / "screenshots" / "value-report-email-chart.png").write_bytes(png)

    # The executive reads it: goals met, every figure hand-counted, each linking to its page.
    demo_site_client.force_login(users.get(username="erin"))
    assert demo_web.goto(report.get_absolute_url()).status == 200
    assert page.locator("#goals .goal-met").count() == 2
    assert figure(page, "requests", "Mentoring share of committed points") == "15.4%"
    assert figure(page, "requests", "Requests taken on") == "6"
    assert figure(page, "requests", "Requests finished") == "4"
    assert figure(page, "requests", "Points spent") == "13"
    assert figure(page, "requests", "Teams now doing a task themselves") == "2"
    assert figure(page, "credit", "Tasks finished") == "4"
    assert figure(page, "credit", "Colleagues credited or thanked") == "4"
    link = page.locator("#section-requests td a", has_text="15.4%").first.get_attribute("href")
    assert link == f"/requests/summary/?quarter={last.key}"
    own = page.locator("#section-requests table", has=page.locator("th", has_text="Used to ask for"))
    assert own.locator("tbody th").all_inner_texts() == ["Marketing", "Support"]  # by mentoring date
    assert "no blog-post request since" in page.inner_text("#section-requests")
    demo_web.screenshot("value-report-page", full_page=True)

    # Compares it with the quarter before, side by side.
    page.click(f"text=Compare with {before.label}")
    page.wait_for_url("**/compare/")
    row = page.locator("tr", has=page.locator("th", has_text="Mentoring share of committed points")).first
    assert [c.strip() for c in row.locator("td").all_inner_texts()] == ["0%", "15.4%", "+15.4 pts"]

    # Downloads the PDF and the deck.
    assert demo_web.goto(report.get_absolute_url()).status == 200
    files = {}
    for name, label in (("pdf", "Download PDF"), ("deck", "Download slides")):
        # The in-process site cannot hand Chromium a download (Playwright cancels routed downloads), so the page
        # fetches the link's target itself, with the executive's session, as the download would.
        href = page.locator("a", has_text=label).get_attribute("href")
        status, kind, body = page.evaluate(FETCH_BYTES, href)
        assert (status, kind) == (200, "application/pdf")
        files[name] = tmp_path / f"{name}.pdf"
        files[name].write_bytes(base64.b64decode(body))
        assert files[name].read_bytes().startswith(b"%PDF-")
    text = text_of(files["pdf"])
    assert "Marketing now writes its own tutorials" in text and "15.4%" in text
    assert "Teach teams to do their own content" in text
    slides = text_of(files["deck"])
    assert "2/13" not in slides and "15.4% of the points teams committed" in slides
    assert len(to_png(files["pdf"], "value-report-pdf")) >= 2
    assert len(to_png(files["deck"], "value-report-deck")) >= 5
    assert demo_web.console_errors == []
