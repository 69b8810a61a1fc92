"""The issue's "done when" for the newsletter: three dropped links (one by a signed Slack command), a
marketer builds the issue in a real browser, DevRel comments, suggests and approves, and the Markdown
export is what the mailing tool gets."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from townsquare.core.roles import Role
from townsquare.testing.browser import BrowserSession
from townsquare.updates.models import DroppedLink, Newsletter, SectionRevision
from townsquare.updates.selectors.newsletter import devrel_text_share
from townsquare.updates.slack import signature_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SECRET = "slack-signing-secret-for-the-browser-test"


@contextmanager
def session_for(browser: Any, live_server: Any, username: str) -> Iterator[BrowserSession]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    web = BrowserSession(page=page, base_url=live_server.url, console_errors=errors)
    try:
        web.login(username)
        yield web
        assert errors == []
    finally:
        context.close()


def slack_drop(base_url: str, text: str, user_name: str) -> requests.Response:
    body = urlencode({"team_id": "T1", "user_id": "U1", "user_name": user_name, "command": "/townsquare", "text": text})
    timestamp = str(int(time.time()))
    return requests.post(
        f"{base_url}/updates/links/slack/",
        data=body.encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature_for(secret=SECRET, timestamp=timestamp, body=body.encode()),
        },
        timeout=10,
    )


def test_a_marketer_builds_a_newsletter_devrel_reviews_it_and_the_markdown_is_exported(
    browser: Any, live_server: Any, make_user: Any, settings: Any
) -> None:
    settings.SLACK_SIGNING_SECRET = SECRET
    make_user(Role.STAKEHOLDER_MEMBER, username="mia", team="Marketing", full_name="Mia Chen")
    make_user(Role.DEVREL_MEMBER, username="ari", team="DevRel", full_name="Ari Lindqvist")
    make_user(Role.STAKEHOLDER_MEMBER, username="sol", team="Sales", full_name="Sol Rivera")

    with session_for(browser, live_server, "sol") as sol:
        for url, note in (
            ("https://blog.example.com/kafka-guide?utm_source=twitter", "Customers keep sharing this Kafka guide"),
            ("https://example.org/talks/observability", "Great community talk on observability"),
        ):
            sol.goto("/updates/links/")
            sol.page.fill("#id_url", url)
            sol.page.fill("#id_note", note)
            sol.page.click("#drop-form button[type=submit]")
            sol.page.wait_for_selector("text=the marketer will see it")
        sol.goto("/updates/links/")
        sol.page.fill("#id_url", "https://blog.example.com/kafka-guide/")
        sol.page.fill("#id_note", "dup")
        sol.page.click("#drop-form button[type=submit]")
        sol.page.wait_for_selector("text=was already dropped by Sol Rivera")

    answer = slack_drop(
        live_server.url, "drop <https://github.com/acme/sdk/releases/tag/v2.0|v2.0> SDK 2.0 is out", "sol"
    )
    assert answer.status_code == 200 and answer.json()["text"].startswith("Dropped https://github.com/acme/sdk")
    forged = slack_drop(live_server.url, "drop https://evil.example/ x", "sol")
    assert forged.status_code == 200
    bad = requests.post(
        f"{live_server.url}/updates/links/slack/",
        data={"text": "drop https://evil.example/ x"},
        headers={"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=00"},
        timeout=10,
    )
    assert bad.status_code == 401
    DroppedLink.objects.filter(url__startswith="https://evil.example").delete()
    assert DroppedLink.objects.count() == 3
    assert DroppedLink.objects.get(via=DroppedLink.Via.SLACK).dropped_by_name == "Sol Rivera"

    with session_for(browser, live_server, "mia") as mia:
        mia.goto("/updates/links/")
        mia.page.evaluate("window.scrollTo(0, 0)")
        mia.screenshot("newsletter-links")
        mia.goto("/updates/newsletter/")
        mia.page.fill("#id_title", "Community newsletter, December")
        mia.page.click("#new-issue button[type=submit]")
        mia.page.wait_for_selector("#candidates")
        issue = Newsletter.objects.get()
        for _ in range(3):
            mia.page.locator("#candidates form:has(input[value^='link:']) button").first.click()
            mia.page.wait_for_selector("text=now make the text yours")
        assert mia.page.locator(".newsletter-section").count() == 3
        first = mia.page.locator(".newsletter-section").first
        first.locator("summary", has_text="Edit the text").click()
        first.locator("input[name=heading]").fill("SDK 2.0 is out")
        first.locator("textarea[name=body]").fill("Version 2.0 of the SDK ships streaming uploads.")
        first.locator("button", has_text="Save").click()
        mia.page.wait_for_selector("text=Saved.")
        last = mia.page.locator(".newsletter-section").last
        last.locator("button", has_text="Up").click()
        mia.page.wait_for_load_state()
        mia.page.click("#ask-review")
        mia.page.wait_for_selector("text=Sent to DevRel for review.")
        mia.page.evaluate("window.scrollTo(0, 0)")
        mia.screenshot("newsletter-draft")

    with session_for(browser, live_server, "ari") as ari:
        ari.goto(issue.get_absolute_url())
        section = ari.page.locator(".newsletter-section").first
        section.locator("summary", has_text="Comment or suggest").click()
        section.locator("textarea[name=body]").fill("Mention the migration guide: that is what people ask about.")
        section.locator("textarea[name=suggested_body]").fill(
            "Version 2.0 of the SDK ships streaming uploads. Upgrading? Start with the migration guide."
        )
        section.locator("button", has_text="Add comment").click()
        ari.page.wait_for_selector("text=Comment added.")

    with session_for(browser, live_server, "mia") as mia:
        mia.goto(issue.get_absolute_url())
        mia.page.locator("button", has_text="Use this text").click()
        mia.page.wait_for_selector("text=Suggestion taken into the text.")

    with session_for(browser, live_server, "ari") as ari:
        ari.goto(issue.get_absolute_url())
        ari.page.fill("#decision-body", "Good to go. Nice selection!")
        ari.page.locator("#decision-form button", has_text="Approve").click()
        ari.page.wait_for_selector("#issue-status:text('Approved')")
        ari.page.evaluate("window.scrollTo(0, 0)")
        ari.screenshot("newsletter-review")

        ari.goto(f"/updates/newsletter/{issue.pk}/export/")
        markdown = ari.page.input_value("#export-markdown")
        ari.page.click("button[data-copy=export-markdown]")
        ari.page.wait_for_selector("text=Copied.")
        assert ari.page.evaluate("navigator.clipboard.readText()") == markdown
        ari.page.evaluate("window.scrollTo(0, 0)")
        ari.screenshot("newsletter-export")

    assert markdown.splitlines()[0] == "# Community newsletter, December"
    headings = [line for line in markdown.splitlines() if line.startswith("## ")]
    assert headings == [
        "## [SDK 2.0 is out](https://github.com/acme/sdk/releases/tag/v2.0)",
        "## [https://blog.example.com/kafka-guide](https://blog.example.com/kafka-guide)",
        "## [https://example.org/talks/observability](https://example.org/talks/observability)",
    ]
    assert "Upgrading? Start with the migration guide." in markdown
    assert "Customers keep sharing this Kafka guide" in markdown
    issue.refresh_from_db()
    assert issue.status == Newsletter.Status.APPROVED
    assert SectionRevision.objects.filter(by_devrel=True).count() == 1
    share = devrel_text_share()[0]
    assert 0 < share.devrel_chars < share.total_chars
