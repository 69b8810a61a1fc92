"""The whole Requests loop in a real browser: file, hit the limit, override, rank, triage, mentor, accept, decline."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from townsquare.core.roles import Role
from townsquare.intake import selectors
from townsquare.intake.models import Request
from townsquare.intake.tests.factories import BudgetFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shoot(web, name: str) -> None:
    """Full-page screenshot from the top, so the sticky header sits where it belongs."""
    web.page.mouse.wheel(0, -100_000)
    web.page.wait_for_timeout(150)
    web.screenshot(name)


def switch_user(web, username: str) -> None:
    web.page.context.clear_cookies()
    web.login(username)


def file_blog_post(web, title: str, *, override: bool = False) -> None:
    web.goto("/requests/new/new-blog-post/")
    web.page.fill("#id_title", title)
    web.page.fill("#id_f_audience", "Data engineers evaluating the Kafka connector")
    web.page.fill("#id_f_key_points", "Setup in ten minutes; zero-copy ingest.")
    if override:
        web.page.check("#id_override")
    web.page.get_by_role("button", name="File request").click()
    web.page.wait_for_load_state("networkidle")


def test_the_requests_loop_from_filing_to_refund(web, make_user, seeded_types) -> None:
    make_user(Role.STAKEHOLDER_MEMBER, username="mia", team="Marketing", full_name="Mia Chen")
    make_user(Role.STAKEHOLDER_LEAD, username="marco", team="Marketing", is_lead=True, full_name="Marco Rossi")
    make_user(Role.DEVREL_LEAD, username="dana", team="DevRel", is_lead=True, full_name="Dana Okafor")
    mia = make_user(Role.STAKEHOLDER_MEMBER, username="mia", team="Marketing")
    budget = BudgetFactory(team=mia.teams.get(), points=8)

    # A marketing member files two blog posts (3 points each) from the landing page.
    web.login("mia")
    web.goto("/requests/")
    web.page.get_by_role("link", name=re.compile("New blog post or tutorial")).click()
    web.page.fill("#id_title", "Launch post for the Kafka connector")
    web.page.fill("#id_f_audience", "Data engineers already on Kafka")
    web.page.fill("#id_f_key_points", "Zero-copy ingest.")
    web.page.get_by_role("button", name="File request").click()
    web.page.wait_for_url(re.compile(r"/requests/\d+/$"))
    assert "3 points reserved" in web.page.locator(".flash").inner_text()
    file_blog_post(web, "Migration guide from the old SDK")

    # The third one does not fit: refused, with the balance and who can override.
    file_blog_post(web, "Case study with Acme")
    refusal = web.page.locator(".budget-refusal").inner_text()
    assert "Not enough points. Marketing has 2 of 8 points left" in refusal and "Marco Rossi" in refusal
    assert Request.objects.count() == 2
    shoot(web, "intake-over-budget")

    # Their lead overrides once.
    switch_user(web, "marco")
    file_blog_post(web, "Case study with Acme", override=True)
    assert "over budget, with your override recorded" in web.page.locator(".flash").inner_text()
    assert "team lead override" in web.page.locator("main").inner_text()

    # The member drags the case study to the top of the team's priorities (HTMX saves it).
    switch_user(web, "mia")
    web.goto("/requests/teams/marketing/")
    items = web.page.locator(".priority-item")
    assert items.count() == 3
    web.page.drag_and_drop(".priority-item:nth-child(3)", ".priority-item:nth-child(1)")
    web.page.get_by_text("Order saved.").wait_for()
    assert web.page.locator(".priority-item .priority-title a").first.inner_text() == "Case study with Acme"
    ranked = [r.title for r in selectors.team_open_requests(team=budget.team)]
    assert ranked == ["Case study with Acme", "Launch post for the Kafka connector", "Migration guide from the old SDK"]
    # The arrows work too (the same form; without JavaScript it posts and redirects).
    web.page.get_by_role("button", name="Move “Migration guide from the old SDK” up").click()
    web.page.get_by_text("Order saved.").wait_for()
    expect(web.page.locator(".priority-item").nth(1)).to_contain_text("Migration guide")
    shoot(web, "intake-team-priorities")

    # DevRel triages: the third blog post is a mentoring candidate, offered mentoring in one click.
    switch_user(web, "dana")
    web.goto("/requests/triage/")
    queue = web.page.locator(".triage-table tbody tr")
    assert queue.first.inner_text().startswith("1")
    candidate = web.page.locator("tr.is-candidate")
    assert candidate.count() == 1 and "Case study with Acme" in candidate.inner_text()
    shoot(web, "intake-triage-queue")
    candidate.get_by_role("button", name=re.compile("Offer mentoring")).click()
    web.page.wait_for_url(re.compile(r"/requests/triage/$"))
    converted = Request.objects.get(title="Case study with Acme")
    assert (converted.status, converted.type.slug, converted.points) == ("mentoring", "mentoring-writing", 1)

    # ... accepts one with the triage answers ...
    launch = Request.objects.get(title="Launch post for the Kafka connector")
    web.goto(f"/requests/{launch.pk}/")
    triage = web.page.locator("#triage")
    triage.locator("fieldset", has_text="uniquely DevRel").get_by_label("Yes", exact=True).check()
    triage.locator("fieldset", has_text="with guidance").get_by_label("No", exact=True).check()
    triage.get_by_label(re.compile("Accept: DevRel does it")).check()
    shoot(web, "intake-triage-form")
    triage.get_by_role("button", name="Save triage").click()
    web.page.wait_for_url(re.compile(rf"/requests/{launch.pk}/$"))
    assert web.page.locator("header .status").inner_text() == "Accepted"

    # ... and declines one, with a note.
    guide = Request.objects.get(title="Migration guide from the old SDK")
    web.goto(f"/requests/{guide.pk}/")
    triage = web.page.locator("#triage")
    triage.locator("fieldset", has_text="uniquely DevRel").get_by_label("No", exact=True).check()
    triage.locator("fieldset", has_text="with guidance").get_by_label("Yes", exact=True).check()
    triage.get_by_label(re.compile("Decline .points are refunded")).check()
    triage.get_by_label("Note to the requester").fill("The SDK team owns migration docs; we will review their draft.")
    triage.get_by_role("button", name="Save triage").click()
    web.page.wait_for_url(re.compile(rf"/requests/{guide.pk}/$"))
    assert web.page.locator("header .status").inner_text() == "Declined"
    shoot(web, "intake-request-declined")

    # The refund is in the ledger; the balance is 8 − 3 (accepted) − 1 (mentoring) = 4.
    web.goto("/requests/teams/marketing/")
    ledger = web.page.locator("#ledger tbody")
    refunds = ledger.locator("tr.kind-refund")
    assert refunds.count() == 2  # the mentoring conversion's difference and the decline
    assert "Migration guide from the old SDK" in refunds.last.inner_text() and "+3" in refunds.last.inner_text()
    assert web.page.locator("#available").inner_text() == "4"
    assert web.page.locator("svg.burn-chart path.actual").count() == 1
    shoot(web, "intake-team-budget")

    web.goto("/requests/summary/")
    assert web.page.locator("#total-spent").inner_text() == "4"
    shoot(web, "intake-quarter-summary")
    web.goto("/requests/")
    shoot(web, "intake-landing")
    assert web.console_errors == []


def test_the_devrel_lead_sets_budgets_and_edits_types_with_clear_errors(web, make_user, seeded_types) -> None:
    from townsquare.core.quarters import current_quarter
    from townsquare.intake.models import Budget, RequestType

    make_user(Role.DEVREL_LEAD, username="dana", team="DevRel", is_lead=True, full_name="Dana Okafor")
    make_user(Role.STAKEHOLDER_MEMBER, username="sam", team="Support", full_name="Sam Patel")
    web.login("dana")
    web.goto("/requests/budgets/")
    web.page.select_option("#id_team", label="Support")
    web.page.fill("#id_points", "2.5")
    web.page.get_by_role("button", name="Set budget").click()
    assert "Enter a whole number." in web.page.locator(".field.has-error").inner_text()
    assert not Budget.objects.exists()
    web.page.fill("#id_points", "15")
    web.page.get_by_role("button", name="Set budget").click()
    web.page.wait_for_load_state("networkidle")
    assert Budget.objects.get().points == 15
    shoot(web, "intake-budgets")

    talk = RequestType.objects.get(slug="talk-already-given")
    web.goto(f"/requests/types/{talk.pk}/")
    web.page.fill("#id_points", "-1")
    web.page.get_by_role("button", name="Save").click()
    assert "greater than or equal to 0" in web.page.locator(".field.has-error").inner_text()
    web.page.fill("#id_points", "2")
    web.page.uncheck("#id_active")
    web.page.get_by_role("button", name="Save").click()
    web.page.wait_for_url(re.compile(r"/requests/types/$"))
    talk.refresh_from_db()
    assert (talk.points, talk.active) == (2, False)
    shoot(web, "intake-types")

    # The stakeholder no longer sees the retired type, and sees the budget.
    web.page.context.clear_cookies()
    web.login("sam")
    web.goto("/requests/")
    assert "Talk already given" not in web.page.locator("main").inner_text()
    assert f"Your team's budget · {current_quarter().label}" in web.page.locator("main").inner_text()
    shoot(web, "intake-landing-stakeholder")
    assert web.console_errors == []
