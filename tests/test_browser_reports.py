"""The weekly report end to end: a curator edits and publishes; a stakeholder arrives from the email and the chat."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth.models import User

from townsquare.core.roles import Role
from townsquare.core.weeks import iso_week_label, last_complete_week, week_bounds
from townsquare.feedback.models import Theme, ThemeMessage
from townsquare.feedback.services.curation import theme_route
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
    # Product's team reads Product's report by default: Priya gets it without subscribing.
    services.report_publish(report=last_month, by=None)
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
    # Routed after the draft was built: it reaches this week's draft at once.
    webhooks = Theme.objects.create(title="Webhook signatures fail after key rotation", score=2, first_seen=start)
    ThemeMessage.objects.create(
        theme=webhooks,
        message=MessageFactory(author=people[2], channel=github, created_at=start + dt.timedelta(days=3)),
    )
    theme_route(theme=webhooks, department=product, by=User.objects.get(username="dana"))
    web.goto(f"/reports/{draft.pk}/edit/")
    assert "Webhook signatures fail after key rotation" in web.page.inner_text("main")
    first, second = draft.items.order_by("position")[:2]
    web.page.fill(f"#note-{first.pk}", "Three enterprise customers hit this before their renewals in December.")
    # Leaving with unsaved text asks first (the browser's own question); staying keeps the text.
    asked: list[str] = []
    web.page.once("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    web.page.get_by_role("link", name="Preview").click()
    web.page.wait_for_timeout(300)
    assert asked == ["beforeunload"] and web.page.url.endswith(f"/reports/{draft.pk}/edit/")
    web.page.fill(f"#note-{second.pk}", "Typed in the second theme before saving the first.")
    web.page.get_by_role("button", name="Save the draft").click()
    web.page.wait_for_selector("text=Saved the draft (2 themes changed).")
    assert web.page.input_value(f"#note-{second.pk}") == "Typed in the second theme before saving the first."
    web.screenshot("report-draft")
    web.page.get_by_role("link", name="Publish…").click()
    dialog = web.page.locator("#publish-dialog")
    dialog.wait_for(state="visible")
    assert priya.email in dialog.inner_text() and "#product" in dialog.inner_text()
    web.screenshot("report-publish-confirm")
    dialog.get_by_role("button", name="Publish and send").click()
    web.page.wait_for_selector("text=Published.")
    notify.notifications_deliver_due()

    emails = smtp_server.wait_for(2)
    assert [e["To"] for e in emails] == [priya.email, priya.email]
    [email] = [e for e in emails if iso_week_label(week) in e["Subject"]]
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
