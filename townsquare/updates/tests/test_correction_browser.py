"""A sent update corrected in a real browser: the correction is a linked revision, sent as one, and the
sent update stays readable with a link to it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from townsquare.core.roles import Role
from townsquare.core.weeks import company_tz
from townsquare.notify import services as notify
from townsquare.people.models import Team
from townsquare.updates.models import Part, Update
from townsquare.updates.services import digests as services
from townsquare.updates.tests.test_digests import _done_task

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_devrel_corrects_a_sent_update_and_readers_follow_the_link(
    web: Any, make_user: Any, smtp_server: Any, settings: Any
) -> None:
    settings.EMAIL_URL = smtp_server.apprise_url
    settings.BASE_URL = web.base_url
    dana = make_user(Role.DEVREL_LEAD, username="dana", team="DevRel", is_lead=True, full_name="Dana Okafor")
    make_user(Role.STAKEHOLDER_MEMBER, username="sofia", team="Sales", full_name="Sofia Alvarez")
    today = timezone.now().astimezone(company_tz()).date()
    audience = services.audience_save(
        name="Sales", team=Team.objects.get(slug="sales"), destination=None, cadence="weekly",
        weekday=today.weekday(), hour=0, parts=[Part.WORK, Part.NOTE],
    )  # fmt: skip
    _done_task("Release 3.1", ("release",), today - dt.timedelta(days=1))
    sent = services.update_build_draft(audience=audience, period_end=today)
    services.update_draft_save(update=sent, note="Release 3.1 ships on Friday.", items={})
    services.update_send(update=sent, by=dana)
    notify.notifications_deliver_due()
    smtp_server.wait_for(1)

    web.login("dana")
    web.goto(sent.get_absolute_url())
    web.page.locator("#correct-update summary").click()
    web.page.fill("#id_correction_note", "Release 3.1 ships on Monday, not Friday.")
    web.page.get_by_role("button", name="Correct this update…").click()
    web.page.locator("#confirm-dialog").get_by_role("button", name="Start the correction").click()
    web.page.wait_for_url("**/updates/*/edit/")
    correction = Update.objects.get(supersedes=sent)
    assert web.page.url.endswith(f"/updates/{correction.pk}/edit/")
    web.page.fill("#id_note", "Release 3.1 ships on Monday.")
    web.page.get_by_role("button", name="Save and send the correction").click()
    web.page.wait_for_selector("text=Sent: 1 messages are on their way.")
    notify.notifications_deliver_due()

    mails = smtp_server.wait_for(2)
    assert mails[1]["Subject"].endswith("(correction 1)")
    html = next(p.get_content() for p in mails[1].walk() if p.get_content_type() == "text/html")
    assert "Release 3.1 ships on Monday, not Friday." in html and sent.get_absolute_url() in html

    # Sofia reads the sent update: it is as it was, and points at the correction.
    web.page.context.clear_cookies()
    web.login("sofia")
    web.goto(sent.get_absolute_url())
    assert "Release 3.1 ships on Friday." in web.page.inner_text("main")
    web.page.locator("#corrected-by").get_by_role("link", name="read correction 1").click()
    web.page.wait_for_url(f"**{correction.get_absolute_url()}")
    body = web.page.inner_text("main")
    assert "Release 3.1 ships on Monday." in body and "Release 3.1 ships on Monday, not Friday." in body
    web.page.evaluate("window.scrollTo(0, 0)")
    web.screenshot("updates-correction")
    assert web.console_errors == []
