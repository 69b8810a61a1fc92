"""The issue's "done when": a curator merges two themes in the inbox; the next re-grouping keeps the merge."""

from __future__ import annotations

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
    web.screenshot("feedback-inbox-merge")  # feedback-inbox.png is the demo's (tests/demo_workspace)
    page.check(f"tr[data-theme='{export.pk}'] input[name=themes]")
    page.check(f"tr[data-theme='{twin.pk}'] input[name=themes]")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("m")  # the inbox's merge shortcut
    page.wait_for_selector("text=Merged 1 theme")
    survivor = Theme.objects.filter(pk__in=[export.pk, twin.pk]).exclude(status="merged").get()
    merged = Theme.objects.filter(pk__in=[export.pk, twin.pk], status="merged").get()
    assert merged.merged_into_id == survivor.pk
    assert page.locator(f"tr[data-theme='{merged.pk}']").count() == 0

    services.themes_recluster()
    merged.refresh_from_db()
    assert merged.status == "merged" and merged.merged_into_id == survivor.pk
    assert ThemeMessage.objects.filter(theme=survivor).count() == 5
    assert not [p for p in Proposal.objects.filter(status="open", kind="split") if survivor.pk in p.theme_ids]

    web.goto(f"/feedback/themes/{survivor.pk}/")
    assert page.locator("#fb-people").inner_text() == "3"
    assert page.locator("#fb-customers").inner_text() == "1"
    web.screenshot("feedback-theme-merged")
    assert web.console_errors == []
