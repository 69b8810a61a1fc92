"""Erasing a member takes their quotes and threads out of every report snapshot, and out of the outbox."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from townsquare.feedback.tests.factories import IdentityFactory, MessageFactory
from townsquare.notify.models import Notification
from townsquare.people.models import Team
from townsquare.people.services import member_erase
from townsquare.reports import services
from townsquare.reports.models import ReportItem
from townsquare.reports.services import Quote
from townsquare.reports.tests.factories import MONDAY, facts

pytestmark = pytest.mark.django_db


def test_an_erasure_removes_the_members_quotes_from_published_reports(client_for: Any, make_user: Any) -> None:
    product = Team.objects.create(name="Product", slug="product", kind=Team.Kind.PRODUCT)
    ana, ben = IdentityFactory(display_name="Ana Lima"), IdentityFactory(display_name="Ben Ode")
    mine = MessageFactory(author=ana, body="Ana's own words about exports")
    theirs = MessageFactory(author=ben, body="Ben's words about exports")
    quotes = [
        Quote(text=m.body, author=m.author.display_name, channel="Slack", url=m.url, message_id=m.pk)
        for m in (mine, theirs)
    ]
    threads = [{"title": m.body, "url": m.url, "channel": "Slack"} for m in (mine, theirs)]
    report = services.report_build_draft(
        week_start=MONDAY,
        department=product,
        facts=[replace(facts("Exports time out"), quotes=quotes, threads=threads)],
    )
    reader = make_user("stakeholder_member")
    services.subscription_toggle(user=reader, department=product, subscribe=True)
    services.report_publish(report=report, by=None)
    outbox = Notification.objects.filter(event_key=f"reports.published:{report.pk}")
    assert outbox.count() == 1 and "Ana" in outbox.get().body_html
    outbox.update(status=Notification.Status.SENT)  # a sent email's body is stored too
    client = client_for("stakeholder_member")
    assert "Ana Lima" in client.get(report.get_absolute_url()).content.decode()

    record = member_erase(member=ana.member, by=None, reason="ticket 9")

    wanted = ("report quotes", "report threads", "reports redacted", "notification bodies")
    assert {what: record.removed.get(what) for what in wanted} == dict(zip(wanted, (1, 1, 1, 1), strict=True))
    for notification in outbox:
        assert "Ana" not in notification.body + notification.body_html, notification.target
        assert "Ben Ode" in notification.body
    item = ReportItem.objects.get()
    assert [q["author"] for q in item.quotes] == ["Ben Ode"]
    assert [t["url"] for t in item.threads] == [theirs.url]
    for url in (report.get_absolute_url(), f"/api/v1/reports/{report.pk}/"):
        body = client.get(url).content.decode()
        assert "Ana" not in body and "Ben Ode" in body, url
