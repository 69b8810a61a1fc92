"""The demo's feedback inbox and a theme page in a real browser; their screenshots are the README's.

``TOWNSQUARE_SCREENSHOTS=1`` writes them to docs/screenshots/feedback-inbox.png and feedback-theme.png.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from townsquare.sources.models import Message

from . import GROUP

pytestmark = [pytest.mark.xdist_group(GROUP), pytest.mark.browser, pytest.mark.django_db]

# Counted by hand from the Acme Cloud sample (see test_feedback_done_when.py): 7 people, 3 paying customers.
PAGINATION = "Paginator silently skips records when page_size is above 100"


def test_a_devrel_member_opens_the_demo_inbox_and_the_pagination_theme(demo_web: Any, demo_site_client: Client) -> None:
    demo_site_client.force_login(get_user_model().objects.get(username="ari"))
    theme = Message.objects.get(
        source__name__startswith="Acme Cloud", title__contains=PAGINATION
    ).feedback_assignment.theme
    page = demo_web.page

    assert demo_web.goto("/feedback/").status == 200
    rows = page.locator("#fb-inbox tbody tr[data-theme]")
    assert rows.count() >= 5
    row = page.locator(f"#fb-inbox tr[data-theme='{theme.pk}']")
    assert row.locator("td.num").nth(1).inner_text() == "7"
    demo_web.screenshot("feedback-inbox", full_page=False)

    row.locator("a").first.click()
    page.wait_for_url(f"**/feedback/themes/{theme.pk}/")
    assert page.locator("#fb-people").inner_text() == "7"
    assert page.locator("#fb-customers").inner_text() == "3"
    assert page.get_by_text("Representative quotes").is_visible()
    demo_web.screenshot("feedback-theme", full_page=False)
    assert demo_web.console_errors == []
