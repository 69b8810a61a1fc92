"""Done when (issue 18, the updates part): the sales update is built, edited and sent; a salesperson asks from
the email's link; DevRel answers and turns the question into a request."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone

from townsquare.core.roles import Role
from townsquare.core.weeks import company_tz
from townsquare.intake.models import Request, RequestType
from townsquare.intake.tests.factories import BudgetFactory
from townsquare.notify import services as notify
from townsquare.people.models import Team
from townsquare.updates.models import Part, Question, Update
from townsquare.updates.services import digests as services
from townsquare.updates.tasks import build_due_update_drafts_task
from townsquare.updates.tests.test_digests import _done_task, _theme

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_sales_update_goes_out_and_a_question_comes_back_as_a_request(
    web: Any, make_user: Any, smtp_server: Any, http_endpoint: Any, settings: Any
) -> None:
    settings.EMAIL_URL = smtp_server.apprise_url
    settings.BASE_URL = web.base_url
    make_user(Role.DEVREL_LEAD, username="dana", team="DevRel", is_lead=True, full_name="Dana Okafor")
    sofia = make_user(Role.STAKEHOLDER_MEMBER, username="sofia", team="Sales", full_name="Sofia Alvarez")
    sales = Team.objects.get(slug="sales")
    BudgetFactory(team=sales, points=15)
    # The seeded request types are gone when an earlier transactional test flushed the database.
    RequestType.objects.get_or_create(
        slug="qa-session", defaults={"name": "One-hour Q&A session", "points": 1, "mode": RequestType.Mode.SERVICE}
    )
    chat = notify.destination_save(name="#sales", url=http_endpoint.url("json"), purposes=[], enabled=True)
    now = timezone.now().astimezone(company_tz())
    today = now.date()
    audience = services.audience_save(
        name="Sales",
        team=sales,
        destination=chat,
        cadence="weekly",
        weekday=today.weekday(),
        hour=0,
        parts=[Part.WORK, Part.THEMES, Part.EVENTS, Part.NOTE],
    )
    _done_task("Streaming analytics demo", ("demo", "sales"), today - dt.timedelta(days=2))
    _done_task("Release 3.1", ("release",), today - dt.timedelta(days=1))
    _theme(
        "SSO for enterprise accounts",
        customer_count=3,
        first_seen=now - dt.timedelta(days=20),
        last_seen=now - dt.timedelta(days=1),
    )

    # The hourly task builds the draft: today is the audience's weekday and its hour has come.
    assert build_due_update_drafts_task.call() == 1
    update = Update.objects.get(audience=audience)
    demo = update.items.get(title="Streaming analytics demo")

    web.login("dana")
    web.goto("/updates/")
    web.page.get_by_role("link", name=str(update)).click()
    web.page.fill("#id_note", "Two new things to show customers this week.")
    web.page.fill(f"#title-{demo.pk}", "Streaming analytics in 10 minutes")
    web.page.fill(f"#body-{demo.pk}", "A scripted demo you can give on your own.")
    web.page.evaluate("window.scrollTo(0, 0)")
    web.screenshot("updates-draft")
    web.page.get_by_role("button", name="Save and send").click()
    web.page.wait_for_selector("text=Sent: 2 messages are on their way.")
    notify.notifications_deliver_due()

    [email] = smtp_server.wait_for(1)
    assert email["To"] == sofia.email and "DevRel update for Sales" in email["Subject"]
    html = next(p.get_content() for p in email.walk() if p.get_content_type() == "text/html")
    text = next(p.get_content() for p in email.walk() if p.get_content_type() == "text/plain")
    assert "Streaming analytics in 10 minutes" in html and "Streaming analytics in 10 minutes" in text
    message = http_endpoint.wait_for(1)[0].json()["message"]
    assert "Streaming analytics in 10 minutes" in message and "What else do you need?" in message

    # Sofia follows the email's "what else do you need?" link: the login, then straight to the form.
    ask = re.search(r'href="(http://[^"]+/updates/\d+/ask/)"', html)
    assert ask is not None
    web.page.context.clear_cookies()
    web.page.goto(ask.group(1))
    web.page.fill("#id_username", "sofia")
    web.page.fill("#id_password", "pw-for-tests-123")
    web.page.click("button[type=submit]")
    web.page.wait_for_url(re.compile(r".*/updates/\d+/ask/$"))
    web.page.fill("#id_text", "What else is there? Prospects ask for a Kafka walkthrough.")
    web.page.get_by_role("button", name="Send to DevRel").click()
    web.page.wait_for_selector("text=DevRel has your question")
    question = Question.objects.get()
    assert (question.asked_by, question.team) == (sofia, sales)

    web.page.context.clear_cookies()
    web.login("dana")
    web.goto(f"/updates/{update.pk}/#question-{question.pk}")
    web.page.fill(f"#answer-{question.pk}", "Yes: the Kafka tutorial, and we can record a walkthrough.")
    web.page.get_by_role("button", name="Save the answer").click()
    web.page.locator(f"#question-{question.pk}").get_by_text("answered").wait_for()
    web.page.wait_for_load_state("networkidle")  # the answer's swap done: the button clicked is the one shown
    web.page.get_by_role("button", name="Turn into a request").click()
    web.page.wait_for_selector("text=Turned into a request")
    request = Request.objects.get()
    assert (request.team, request.requester) == (sales, sofia)
    assert "Prospects ask for a Kafka walkthrough" in request.details["question"]
    web.page.evaluate("window.scrollTo(0, 0)")  # the sticky top bar stays at the top of a full-page shot
    web.screenshot("updates-page")
    web.page.get_by_role("link", name=request.title).wait_for()

    web.goto(audience.get_absolute_url())
    assert "1 question asked on this audience's updates, 1 answered." in web.page.inner_text("main")
    web.page.evaluate("window.scrollTo(0, 0)")
    web.screenshot("updates-audience")
    assert web.console_errors == []
