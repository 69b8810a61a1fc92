"""A real browser logs in and opens every top-level page: it renders, with no console errors."""

from __future__ import annotations

import pytest

from townsquare.core.context_processors import NAVIGATION
from townsquare.core.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_devrel_lead_opens_every_top_level_page(web, make_user) -> None:
    make_user(Role.DEVREL_LEAD, username="dana", team="DevRel", is_lead=True, full_name="Dana Okafor")
    web.login("dana")
    assert web.page.locator("h1").first.inner_text().startswith("Good to see you, Dana")
    # A new workspace opens on its checklist; the first step's button leads to it.
    checklist = web.page.get_by_role("region", name="Set up your workspace")
    assert "0 of 5 done" in checklist.inner_text()
    web.screenshot("first-run-checklist")
    checklist.get_by_role("link", name="Add a source").click()
    assert web.page.url.endswith("/listen/sources/add/")
    web.goto("/home/")
    web.screenshot("home")
    labels = [label for _, label, _, _ in NAVIGATION]
    for label in labels:
        web.page.get_by_role("navigation", name="Main").get_by_role("link", name=label, exact=True).click()
        web.page.wait_for_load_state("networkidle")
        heading = web.page.locator("main h1").first.inner_text()
        assert heading, f"{label} has no heading"
        assert web.page.locator("main").inner_text().strip(), f"{label} rendered nothing"
        current = web.page.locator('nav[aria-label="Main"] a[aria-current="page"]')
        assert current.inner_text() == label
        web.screenshot(f"page-{label.lower()}")
    for path in ("/people/teams/", "/notifications/", "/notifications/destinations/", "/account/", "/api/docs/"):
        response = web.goto(path)
        assert response.status == 200, path
        web.page.wait_for_load_state("networkidle")
    assert web.console_errors == []


def test_an_executive_sees_only_the_loops_for_their_role(web, make_user) -> None:
    make_user(Role.EXECUTIVE, username="erin", team="Executive")
    web.login("erin")
    nav = web.page.get_by_role("navigation", name="Main").inner_text().split()
    assert nav == ["Home", "Feedback", "Requests", "Board", "Updates", "Value"]
    response = web.goto("/listen/")
    assert response.status == 403
    # The 403 page sits inside the layout: the same navigation, the role, and the pages that are open.
    assert web.page.locator("main h1").inner_text() == "You don't have access to this page"
    assert "Executive viewer" in web.page.locator("main").inner_text()
    assert web.page.get_by_role("navigation", name="Main").is_visible()
    web.page.locator("main").get_by_role("link", name="Value", exact=True).click()
    assert web.page.url.endswith("/value/")
    web.goto("/listen/")
    web.screenshot("error-403")


def test_a_wrong_password_shows_an_error_and_no_page(web, make_user) -> None:
    make_user(Role.DEVREL_MEMBER, username="ari")
    web.goto("/listen/")
    assert "/login/" in web.page.url
    web.page.fill("#id_username", "ari")
    web.page.fill("#id_password", "wrong")
    web.page.click("button[type=submit]")
    assert "Please enter a correct username and password" in web.page.locator(".form-error").inner_text()
    web.screenshot("login-error")


def test_the_outbox_filters_with_htmx_without_a_full_reload(web, make_user) -> None:
    from townsquare.notify import services

    make_user(Role.DEVREL_MEMBER, username="ari")
    services.notification_enqueue(
        event_key="b1", title="Ana finished the Kafka tutorial", body="b", emails=["x@example.com"]
    )
    web.login("ari")
    web.goto("/notifications/")
    web.page.evaluate("window.__marker = 'still here'")
    web.page.get_by_role("link", name="Sent", exact=True).click()
    web.page.wait_for_selector("text=Nothing in the outbox")
    assert web.page.evaluate("window.__marker") == "still here"
    assert web.page.url.endswith("?status=sent")
    web.page.get_by_role("link", name="Pending", exact=True).click()
    web.page.wait_for_selector("text=Ana finished the Kafka tutorial")
    assert web.console_errors == []
