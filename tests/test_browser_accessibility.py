"""Every main page, in a real browser, against axe-core's WCAG 2.1 A/AA rules: no serious or critical failure.

axe-core is vendored (townsquare/testing/vendor/axe-core) and injected into each page by
``BrowserSession.axe``. The workspace holds a little of everything (messages on two channels, a customer,
a theme, a request, board tasks, a kudos) so the pages show their tables, tags and badges, not only their
empty states; the empty states are checked too, by the pages that have nothing to show.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from townsquare.board.tests.factories import KudosFactory, TaskFactory
from townsquare.core.roles import Role
from townsquare.feedback.models import Theme, ThemeMessage
from townsquare.intake.tests.factories import BudgetFactory, RequestTypeFactory
from townsquare.people.models import Team
from townsquare.people.tests.factories import AccountFactory, IdentityFactory
from townsquare.sources.tests.factories import MessageFactory, SourceFactory
from townsquare.testing.browser import MAIN_PAGES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _workspace() -> dict[str, object]:
    now = timezone.now()
    account = AccountFactory(tier="enterprise", organization__name="Quillmoor")
    ana = IdentityFactory(
        member__display_name="Ana Souza", member__organization=account.organization, member__last_seen=now
    )
    forum = SourceFactory(name="Community forum")
    messages = [
        MessageFactory(author=ana, source=forum, title="CSV export drops rows", created_at=now - dt.timedelta(days=d))
        for d in (1, 3, 9)
    ]
    theme = Theme.objects.create(
        title="CSV export drops rows", status=Theme.Status.OPEN, people_count=3, message_count=3
    )
    for message in messages:
        ThemeMessage.objects.create(theme=theme, message=message)
    support = Team.objects.get_or_create(name="Support", defaults={"slug": "support", "kind": "support"})[0]
    BudgetFactory(team=support)
    RequestTypeFactory()
    TaskFactory(title="Kafka tutorial")
    KudosFactory()
    return {"theme": theme, "member": ana.member}


def test_every_main_page_passes_axe_for_the_devrel_lead(web, make_user) -> None:
    make_user(Role.DEVREL_LEAD, username="dana", team="DevRel", is_lead=True, full_name="Dana Okafor")
    made = _workspace()
    web.login("dana")
    pages = [*MAIN_PAGES, f"/feedback/themes/{made['theme'].pk}/", f"/people/members/{made['member'].pk}/"]
    failures = {}
    for path in pages:
        web.goto(path)
        web.page.wait_for_load_state("networkidle")
        found = web.axe()
        if found:
            failures[path] = found
    assert failures == {}, "\n".join(f"{path}: {line}" for path, lines in failures.items() for line in lines)


def test_a_stakeholder_403_and_their_pages_pass_axe(web, make_user) -> None:
    make_user(Role.STAKEHOLDER_MEMBER, username="sam", team="Support")
    _workspace()
    web.login("sam")
    failures = {}
    for path in ("/home/", "/feedback/", "/requests/", "/board/", "/updates/", "/listen/", "/people/"):
        web.goto(path)
        web.page.wait_for_load_state("networkidle")
        found = web.axe()
        if found:
            failures[path] = found
    assert failures == {}, "\n".join(f"{path}: {line}" for path, lines in failures.items() for line in lines)
