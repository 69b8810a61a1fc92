"""The weekly report end to end: a curator edits and publishes; a stakeholder arrives from the email and the chat."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from townsquare.core.roles import Role
from townsquare.core.weeks import last_complete_week, week_bounds
from townsquare.feedback.models import Theme, ThemeMessage
from townsquare.feedback.tests.factories import AccountFactory, ChannelFactory, IdentityFactory, MessageFactory
from townsquare.notify import services as notify
from townsquare.people.models import Team
from townsquare.reports import services
from townsquare.reports.models import Report
from townsquare.reports.tests.factories import facts
from townsquare.sources.models import Message

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_report_goes_from_draft_to_a_stakeholders_inbox_and_chat(
    web, make_user, smtp_server, http_endpoint, settings
):
    settings.EMAIL_URL = smtp_server.apprise_url
    settings.BASE_URL = web.base_url
    make_user(Role.DEVREL_LEAD, username="dana", team="DevRel", is_lead=True, full_name="Dana Okafor")
    priya = make_user(Role.STAKEHOLDER_LEAD, username="priya", team="Product", is_lead=True, full_name="Priya Nair")
    product = Team.objects.get(slug="product")
    week = last_complete_week()
    last_month = services.report_build_draft(
        week_start=week - dt.timedelta(weeks=4),
        department=product,
        facts=[facts("SSO login loops on Safari", theme_id=11, people=3)],
    )
    services.report_publish(report=last_month, by=None)  # before anyone subscribed: it sends nothing
    services.subscription_toggle(user=priya, department=product, subscribe=True)
    notify.destination_save(name="#product", url=http_endpoint.url("json"), purposes=["reports"], enabled=True)
    # Last week's feedback, grouped into themes routed to Product (real rows, hand-countable).
    start = week_bounds(week)[0]
    github = ChannelFactory(source__name="GitHub", name="acme/app issues")
    slack = ChannelFactory(source__name="Slack", name="#help")
    acme = AccountFactory(tier="enterprise", annual_revenue=500_000, organization__name="Acme")
    people = [
        IdentityFactory(display_name="Ana", member__organization=acme.organization),
        IdentityFactory(display_name="Bo"),
        IdentityFactory(display_name="Cy"),
    ]
    kafka = Theme.objects.create(
        title="Kafka connector drops messages under load",
        department=product,
        score=9,
        first_seen=start - dt.timedelta(days=30),
    )
    docs = Theme.objects.create(
        title="Python SDK docs lack async examples",
        department=product,
        score=5,
        first_seen=start + dt.timedelta(days=1),
    )
    for i, person in enumerate(people):
        message = MessageFactory(
            author=person,
            channel=[github, slack][i % 2],
            created_at=start + dt.timedelta(days=i + 1),
            body=f"The Kafka connector dropped messages again ({person.display_name})",
            url=f"https://github.com/acme/app/issues/{i + 1}",
        )
        ThemeMessage.objects.create(theme=kafka, message=message, similarity=0.9)
    ThemeMessage.objects.create(
        theme=docs, message=MessageFactory(author=people[1], channel=slack, created_at=start + dt.timedelta(days=2))
    )

    web.login("dana")
    web.goto("/reports/")
    web.page.select_option("#build-week", week.isoformat())
    web.page.get_by_role("button", name="Build drafts").click()
    web.page.wait_for_selector("text=drafts ready for")
    draft = Report.objects.get(week_start=week, department=product)
    web.goto(f"/reports/{draft.pk}/edit/")
    web.page.fill(
        f"#note-{draft.items.get(position=1).pk}",
        "Three enterprise customers hit this before their renewals in December.",
    )
    web.page.locator(".edit-item").first.get_by_role("button", name="Save").click()
    web.page.wait_for_selector("text=Saved “Kafka connector drops messages under load”")
    web.screenshot("report-draft")
    web.page.get_by_role("button", name="Publish").click()
    web.page.wait_for_selector("text=Published.")
    notify.notifications_deliver_due()

    [email] = smtp_server.wait_for(1)
    assert email["To"] == priya.email
    html = next(p.get_content() for p in email.walk() if p.get_content_type() == "text/html")
    web.page.set_content(html)
    web.screenshot("report-email")
    chat = http_endpoint.wait_for(1)[0].json()["message"]
    assert "Kafka connector drops messages under load" in chat
    chat_link = re.search(r"(http://\S+/reports/\d+/)", chat).group(1)

    web.page.context.clear_cookies()
    web.login("priya")
    email_link = re.search(r'href="(http://[^"]+/reports/\d+/)"', html).group(1)
    assert email_link == chat_link
    web.page.goto(email_link)
    main = web.page.inner_text("main")
    assert "Three enterprise customers hit this" in main
    assert "3 people" in main.replace("\n", " ") and "1 paying customer" in main.replace("\n", " ")
    web.screenshot("report-page")
    source = web.page.locator(".report-item").first.get_by_role("link", name="source").first
    assert source.get_attribute("href").startswith("https://github.com/acme/app/issues/")
    # The quote leads to its source message: the link is the stored origin URL (not followed: no outside traffic).
    assert source.get_attribute("href") in set(Message.objects.values_list("url", flat=True))

    web.goto("/reports/?q=SSO")
    web.page.get_by_role("link", name=last_month.iso_week).click()
    assert "SSO login loops on Safari" in web.page.inner_text("main")
    assert web.console_errors == []
