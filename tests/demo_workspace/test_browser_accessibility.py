"""The demo workspace's pages against axe-core's WCAG 2.1 A/AA rules: no serious or critical failure.

The demo fills every page (a busy outbox, ten sources, kudos, organisations, themes, reports, updates), so
this is where colour contrast and labelling fail if they fail at all; the pages of an empty workspace are
checked by tests/test_browser_accessibility.py. Each role sees different controls: the lead (dana), a
stakeholder (sam, Support) and the executive (erin) each walk the pages their role opens.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from townsquare.testing.browser import MAIN_PAGES

from . import GROUP

pytestmark = [pytest.mark.xdist_group(GROUP), pytest.mark.browser, pytest.mark.django_db]

ROLE_PAGES = {
    "dana": [*MAIN_PAGES, "/value/quarters/", "/updates/links/", "/updates/newsletters/"],
    "sam": ["/home/", "/feedback/", "/requests/", "/board/", "/board/kudos/", "/updates/", "/listen/"],
    "erin": ["/home/", "/feedback/", "/value/", "/value/health/", "/value/quarters/", "/updates/"],
}


@pytest.mark.parametrize("username", list(ROLE_PAGES))
def test_the_demo_pages_pass_axe(demo_web: Any, demo_site_client: Client, username: str) -> None:
    demo_site_client.force_login(get_user_model().objects.get(username=username))
    failures = {}
    for path in ROLE_PAGES[username]:
        demo_web.goto(path)
        demo_web.page.wait_for_load_state("networkidle")
        found = demo_web.axe()
        if found:
            failures[path] = found
    assert failures == {}, "\n".join(f"{path}: {line}" for path, lines in failures.items() for line in lines)
