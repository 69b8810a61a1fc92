"""Update pages: who may see and do what, the editor, the question form reached from the email, HTMX answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from townsquare.core.roles import Role
from townsquare.core.weeks import company_tz
from townsquare.people.models import Team
from townsquare.updates.models import Audience, Part, Question, Update
from townsquare.updates.services import digests as services
from townsquare.updates.tests.test_digests import END, HOSTILE, _done_task, _theme

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(make_user: Any) -> dict[str, Any]:
    sofia = make_user(Role.STAKEHOLDER_MEMBER, username="sofia", team="Sales", full_name="Sofia Alvarez")
    dana = make_user(Role.DEVREL_LEAD, username="dana", team="DevRel", is_lead=True)
    audience = services.audience_save(
        name="Sales",
        team=Team.objects.get(slug="sales"),
        destination=None,
        cadence="weekly",
        weekday=0,
        hour=9,
        parts=list(Part.values),
    )
    _done_task(HOSTILE, ("demo",), END - dt.timedelta(days=2), description=HOSTILE)
    _theme("SSO for enterprise", customer_count=2)
    update = services.update_build_draft(audience=audience, period_end=END)
    draft = services.update_build_draft(audience=audience, period_end=END + dt.timedelta(days=7))
    services.update_draft_save(update=update, note=HOSTILE, items={})
    services.update_send(update=update, by=dana)
    return {"sofia": sofia, "dana": dana, "audience": audience, "update": update, "draft": draft}


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.STAKEHOLDER_MEMBER, 403), (Role.EXECUTIVE, 200), (Role.DEVREL_MEMBER, 200)],
)
def test_the_audience_page_is_for_devrel_and_executives(sent: Any, client_for: Any, role: str, status: int) -> None:
    response = client_for(role).get(f"/updates/audiences/{sent['audience'].pk}/")
    assert response.status_code == status
    if status == 200:
        assert b"Questions asked and answered" in response.content


def test_stakeholders_read_sent_updates_but_not_drafts_and_cannot_edit(sent: Any) -> None:
    client = _client(sent["sofia"])
    page = client.get(f"/updates/{sent['update'].pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "Ask DevRel about this" in body and "What else do you need?" in body
    assert client.get(f"/updates/{sent['draft'].pk}/").status_code == 404
    assert client.get(f"/updates/{sent['draft'].pk}/edit/").status_code == 403
    assert client.post(f"/updates/{sent['draft'].pk}/send/").status_code == 403
    assert client.get("/updates/audiences/new/").status_code == 403
    index = client.get("/updates/")
    assert (
        index.status_code == 200 and b"/updates/newsletter/" in index.content and b"New audience" not in index.content
    )


def test_anonymous_visitors_are_sent_to_the_login_and_back_to_the_form(sent: Any) -> None:
    url = f"/updates/{sent['update'].pk}/ask/?item=1"
    response = Client().get(url)
    assert response.status_code == 302 and "/login/" in response["Location"] and "next=" in response["Location"]


def test_a_stakeholder_asks_from_the_email_link_and_devrel_answers_with_htmx(sent: Any) -> None:
    update: Update = sent["update"]
    item = update.items.get(part="work")
    form = _client(sent["sofia"]).get(f"/updates/{update.pk}/ask/?item={item.pk}")
    assert form.status_code == 200 and "Ask DevRel about" in form.content.decode()
    posted = _client(sent["sofia"]).post(f"/updates/{update.pk}/ask/", {"item": item.pk, "text": HOSTILE})
    question = Question.objects.get()
    assert posted.status_code == 302 and posted["Location"].endswith(f"#question-{question.pk}")
    assert question.item == item and question.team is not None and question.team.slug == "sales"

    assert _client(sent["sofia"]).post(f"/updates/questions/{question.pk}/answer/", {"answer": "x"}).status_code == 403
    devrel = _client(sent["dana"])
    fragment = devrel.post(
        f"/updates/questions/{question.pk}/answer/", {"answer": "Here is more."}, headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200 and b"<html" not in fragment.content and b"Here is more." in fragment.content
    task = devrel.post(f"/updates/questions/{question.pk}/convert/", {"to": "task"}, headers={"HX-Request": "true"})
    assert b"Turned into a board task" in task.content
    refused = devrel.post(f"/updates/questions/{question.pk}/convert/", {"to": "task"}, headers={"HX-Request": "true"})
    assert f"question {question.pk} is already a board task".encode() in refused.content
    page = _client(sent["sofia"]).get(f"/updates/{update.pk}/").content.decode()
    assert "Here is more." in page and "&lt;script&gt;" in page


def test_an_empty_question_is_refused_and_nothing_is_stored(sent: Any) -> None:
    response = _client(sent["sofia"]).post(f"/updates/{sent['update'].pk}/ask/", {"text": "   "})
    assert response.status_code == 200 and b"This field is required." in response.content
    assert Question.objects.count() == 0


def test_devrel_builds_edits_and_sends_a_draft(sent: Any) -> None:
    today = timezone.now().astimezone(company_tz()).date()
    _done_task("Fresh demo", ("demo",), today - dt.timedelta(days=2))
    devrel = _client(sent["dana"])
    built = devrel.post(f"/updates/audiences/{sent['audience'].pk}/build/")
    draft = Update.objects.get(audience=sent["audience"], period_end=today)
    assert built["Location"] == f"/updates/{draft.pk}/edit/"
    item = draft.items.get(title="Fresh demo")
    edit = devrel.get(f"/updates/{draft.pk}/edit/")
    assert edit.status_code == 200 and b"Fresh demo" in edit.content
    response = devrel.post(
        f"/updates/{draft.pk}/edit/",
        {
            "note": "New this week",
            f"title-{item.pk}": "A fresh demo",
            f"body-{item.pk}": "Ten minutes",
            "action": "send",
        },
    )
    assert response.status_code == 302 and response["Location"] == f"/updates/{draft.pk}/"
    draft.refresh_from_db()
    assert draft.is_sent and draft.note == "New this week" and draft.items.get(pk=item.pk).title == "A fresh demo"
    assert devrel.get(f"/updates/{draft.pk}/edit/").status_code == 404


def test_devrel_creates_an_audience_and_bad_input_names_the_reason(sent: Any) -> None:
    devrel = _client(sent["dana"])
    support = Team.objects.create(name="Support", slug="support", kind=Team.Kind.SUPPORT)
    bad = devrel.post(
        "/updates/audiences/new/",
        {"name": "Support", "cadence": "weekly", "weekday": 1, "hour": 8, "parts": ["support"]},
    )
    assert b"Support: choose a team to email or a chat destination" in bad.content
    good = devrel.post(
        "/updates/audiences/new/",
        {"name": "Support", "team": support.pk, "cadence": "biweekly", "weekday": 1, "hour": 8, "parts": ["support"]},
    )
    audience = Audience.objects.get(name="Support")
    assert good.status_code == 302 and audience.parts == ["support"] and audience.cadence == "biweekly"


def test_the_update_page_takes_a_fixed_number_of_queries(sent: Any) -> None:
    update: Update = sent["update"]
    client = _client(sent["sofia"])
    client.get(f"/updates/{update.pk}/")
    for n in range(5):
        services.question_ask(update=update, by=sent["sofia"], text=f"q{n}", item=update.items.first())
    with CaptureQueriesContext(connection) as few:
        client.get(f"/updates/{update.pk}/")
    for n in range(20):
        services.question_ask(update=update, by=sent["sofia"], text=f"more {n}", item=update.items.last())
        services.question_ask(update=update, by=sent["sofia"], text=f"general {n}")
    with CaptureQueriesContext(connection) as many:
        client.get(f"/updates/{update.pk}/")
    assert len(many) == len(few)


def test_the_audience_page_charts_questions_per_month_or_says_there_are_none(sent: Any) -> None:
    devrel = _client(sent["dana"])
    url = f"/updates/audiences/{sent['audience'].pk}/"
    empty = devrel.get(url).content.decode().split("<h2>Questions asked and answered</h2>", 1)[1].split("</section>")[0]
    assert "No question yet" in empty and "chart-figure" not in empty and "0 questions" not in empty

    now = timezone.now()
    asked = [services.question_ask(update=sent["update"], by=sent["sofia"], text=f"q{n}") for n in range(3)]
    services.question_answer(question=asked[0], by=sent["dana"], answer="yes")
    two_months_back = (now.astimezone(company_tz()).date().replace(day=1) - dt.timedelta(days=40)).replace(day=15)
    Question.objects.filter(pk=asked[2].pk).update(
        created_at=dt.datetime.combine(two_months_back, dt.time(12), tzinfo=company_tz())
    )
    body = devrel.get(url).content.decode()

    chart = body.split('id="questions-per-month"', 1)[1].split("</figure>", 1)[0]
    assert "<svg" in chart and "Questions asked and answered per month" in chart
    first = two_months_back.strftime("%B %Y")
    assert f"3 questions asked since {first}, 1 answered (33%)." in chart
    # Months before the audience and its first question have no data: no bar, and the table says so.
    before = (two_months_back.replace(day=1) - dt.timedelta(days=1)).strftime("%b %Y")
    assert f'<th scope="row">{before}</th><td class="num">no data</td>' in chart
    # The month between, when nobody asked, is a real zero in the table equivalent.
    middle = (two_months_back + dt.timedelta(days=31)).strftime("%b %Y")
    assert f'<th scope="row">{middle}</th><td class="num">0</td><td class="num">0</td>' in chart
