"""A curator narrows the inbox down, exports it, merges two themes keeping the one they choose; re-grouping keeps it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from townsquare.core.roles import Role
from townsquare.feedback import services
from townsquare.feedback.models import Proposal, Theme, ThemeMessage
from townsquare.feedback.tests.support import feedback_workspace

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_curator_merges_two_themes_with_the_keyboard_and_regrouping_keeps_it(web: Any, make_user: Any) -> None:
    make_user(Role.DEVREL_MEMBER, username="casey", team="DevRel")
    ws = feedback_workspace()
    export, twin = ws["export"], ws["twin"]
    web.login("casey")
    web.goto("/feedback/")
    page = web.page
    # Narrow down: enterprise customers on GitHub. The form stays on the page and HTMX swaps only the results,
    # so the second choice, made before the first answer lands, is kept (it used to be lost with the old form).
    settled = "() => !document.querySelector('.htmx-request')"
    page.select_option("#fb-filters select[name=tier]", "enterprise")
    page.select_option("#fb-filters select[name=source]", label="Slack")
    page.wait_for_selector("text=No theme matches these filters")
    page.wait_for_function(settled)
    assert "source=" in page.url and "tier=enterprise" in page.url
    page.select_option("#fb-filters select[name=source]", label="GitHub")
    page.wait_for_selector(f"tr[data-theme='{twin.pk}']")
    page.wait_for_function(settled)
    # Sorting keeps the filters, and the next filter keeps the sort: it came with the swapped results.
    page.click("#fb-inbox th a:has-text('People')")
    page.wait_for_url("**sort=-people**")
    page.wait_for_function(settled)
    page.select_option("#fb-filters select[name=source]", label="Slack")
    page.wait_for_selector("text=No theme matches these filters")
    page.wait_for_function(settled)
    assert "sort=-people" in page.url and "tier=enterprise" in page.url
    page.select_option("#fb-filters select[name=source]", label="GitHub")
    page.wait_for_selector(f"tr[data-theme='{twin.pk}']")
    assert "source=" in page.url and "tier=enterprise" in page.url and "sort=-people" in page.url
    assert page.locator("#fb-count strong").inner_text() == "3"
    with page.expect_download() as download:
        page.click("#fb-export")
    exported = Path(download.value.path()).read_text()
    assert export.title in exported and twin.title in exported and len(exported.splitlines()) == 4
    web.screenshot("feedback-inbox-merge")  # feedback-inbox.png is the demo's (tests/demo_workspace)
    page.check(f"tr[data-theme='{export.pk}'] input[name=themes]")
    page.check(f"tr[data-theme='{twin.pk}'] input[name=themes]")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("m")  # the inbox's merge shortcut: it asks which theme survives
    page.wait_for_selector("text=Which theme survives?")
    page.check(f"#fb-merge-confirm input[name=target][value='{twin.pk}']")
    page.click("#fb-merge-confirm button[type=submit]")
    page.wait_for_selector("text=Merged 1 theme")
    survivor = Theme.objects.filter(pk__in=[export.pk, twin.pk]).exclude(status="merged").get()
    assert survivor.pk == twin.pk  # the one the curator chose, not the highest-scored
    merged = Theme.objects.filter(pk__in=[export.pk, twin.pk], status="merged").get()
    assert merged.merged_into_id == survivor.pk
    assert page.locator(f"tr[data-theme='{merged.pk}']").count() == 0

    services.themes_recluster()
    merged.refresh_from_db()
    assert merged.status == "merged" and merged.merged_into_id == survivor.pk
    assert ThemeMessage.objects.filter(theme=survivor).count() == 5
    assert not [p for p in Proposal.objects.filter(status="open", kind="split") if survivor.pk in p.theme_ids]

    page.wait_for_load_state("networkidle")  # leaving with an htmx request in flight logs an abort
    web.goto(f"/feedback/themes/{survivor.pk}/")
    assert page.locator("#fb-people").inner_text() == "3"
    assert page.locator("#fb-customers").inner_text() == "1"
    web.screenshot("feedback-theme-merged")
    assert web.console_errors == []
