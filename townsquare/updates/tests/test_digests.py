"""Audience updates: the recipe, the schedule, sending through the outbox, the loop back, hostile text."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from townsquare.board.models import Column, Task
from townsquare.board.tests.factories import LabelFactory, TaskFactory
from townsquare.core.errors import TownsquareError
from townsquare.core.models import Schedule
from townsquare.core.roles import Role
from townsquare.core.scheduling import registered_jobs, scheduler_tick, schedules_sync
from townsquare.core.weeks import company_tz
from townsquare.feedback.models import Theme
from townsquare.intake.models import Request
from townsquare.intake.tests.factories import BudgetFactory
from townsquare.notify import services as notify
from townsquare.notify.models import Notification
from townsquare.people.models import Team
from townsquare.updates.models import Audience, Part, Question, Update
from townsquare.updates.selectors.digests import questions_per_month, questions_per_team
from townsquare.updates.services import digests as services
from townsquare.updates.tests.factories import AudienceFactory

pytestmark = pytest.mark.django_db

END = dt.date(2026, 12, 7)  # a Monday: the period is 30 Nov – 6 Dec
HOSTILE = "<script>alert(1)</script> **bold** [click](http://evil.example) @channel &amp;"


def _at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=company_tz())


def _done_task(title: str, labels: tuple[str, ...], day: dt.date, **kwargs: Any) -> Task:
    task = TaskFactory(title=title, column=Column.DONE, done_at=_at(day), **kwargs)
    task.labels.set([LabelFactory(name=name, slug=name) for name in labels])
    return task


def _theme(title: str, **kwargs: Any) -> Theme:
    defaults: dict[str, Any] = {
        "first_seen": _at(END - dt.timedelta(days=30)),
        "last_seen": _at(END - dt.timedelta(days=2)),
        "people_count": 4,
        "customer_count": 0,
        "score": 5,
    }
    return Theme.objects.create(title=title, **{**defaults, **kwargs})


@pytest.fixture
def sales(make_user: Any) -> dict[str, Any]:
    sofia = make_user(Role.STAKEHOLDER_MEMBER, username="sofia", team="Sales", full_name="Sofia Alvarez")
    dana = make_user(Role.DEVREL_LEAD, username="dana", team="DevRel", is_lead=True, full_name="Dana Okafor")
    team = Team.objects.get(slug="sales")
    audience = services.audience_save(
        name="Sales",
        team=team,
        destination=None,
        cadence=Audience.Cadence.WEEKLY,
        weekday=0,
        hour=9,
        parts=[Part.WORK, Part.THEMES, Part.EVENTS, Part.NOTE],
    )
    return {"sofia": sofia, "dana": dana, "team": team, "audience": audience}


def test_the_draft_follows_the_recipe(sales: dict[str, Any]) -> None:
    team = sales["team"]
    _done_task("Streaming demo in 10 minutes", ("demo", "sales"), END - dt.timedelta(days=3))
    _done_task("Release 3.1 notes", ("release",), END - dt.timedelta(days=1))
    _done_task("Kafka tutorial", ("docs", "tutorial"), END - dt.timedelta(days=2))
    _done_task("Finished last month", ("demo",), END - dt.timedelta(days=40))
    _done_task("Internal metrics", ("metrics",), END - dt.timedelta(days=2), visibility="internal")
    LabelFactory(name="events", slug="events")
    meetup = TaskFactory(title="Meetup in Lisbon", due_date=END + dt.timedelta(days=10))
    meetup.labels.set([LabelFactory(name="events", slug="events")])
    _theme("Pricing page confuses buyers", department=team, score=9)
    _theme("SSO for enterprise", customer_count=3, score=7)
    _theme("Routed to support only", department=TeamFactory_support(), score=8)
    _theme("Seen long ago", department=team, last_seen=_at(END - dt.timedelta(days=60)))

    update = services.update_build_draft(audience=sales["audience"], period_end=END)

    rows = [(i.part, i.kind, i.title) for i in update.items.order_by("position")]
    assert rows == [
        ("work", "Release", "Release 3.1 notes"),
        ("work", "Content", "Kafka tutorial"),
        ("work", "Demo", "Streaming demo in 10 minutes"),
        ("themes", "Theme", "Pricing page confuses buyers"),
        ("themes", "Theme", "SSO for enterprise"),
        ("events", "Event", "Meetup in Lisbon"),
    ]
    assert update.period_start == dt.date(2026, 11, 30) and update.period_label == "30 Nov – 06 Dec 2026"
    sso = update.items.get(title="SSO for enterprise")
    assert (sso.people_count, sso.customer_count) == (4, 3)
    # Building again is idempotent; rebuilding keeps DevRel's edits.
    assert services.update_build_draft(audience=sales["audience"], period_end=END).pk == update.pk
    first = update.items.order_by("position").first()
    assert first is not None
    services.update_draft_save(
        update=update, note="Hello sales", items={first.pk: services.ItemEdit("3.1 is out", "Faster joins")}
    )
    services.update_build_draft(audience=sales["audience"], period_end=END, rebuild=True)
    assert update.items.count() == 6
    assert update.items.get(pk=first.pk).title == "3.1 is out"
    update.refresh_from_db()
    assert update.note == "Hello sales"


def TeamFactory_support() -> Team:
    return Team.objects.get_or_create(slug="support", defaults={"name": "Support", "kind": Team.Kind.SUPPORT})[0]


def test_support_gets_rising_themes_beside_answered_questions(sales: dict[str, Any]) -> None:
    """Answered community questions are tested in test_support_part; a release answering a theme is not one."""
    support = TeamFactory_support()
    audience = AudienceFactory(name="Support", team=support, parts=[Part.SUPPORT])
    _theme("How to rotate keys", addressed_at=_at(END - dt.timedelta(days=2)), addressed_release="docs: key rotation")
    _theme("Webhooks time out", score=6, score_parts={"trend": 0.8})
    _theme("Steady theme", score=7, score_parts={"trend": 0.0})

    update = services.update_build_draft(audience=audience, period_end=END)

    assert [(i.kind, i.title) for i in update.items.order_by("position")] == [("Rising", "Webhooks time out")]


def test_bad_audiences_are_refused_with_the_reason(sales: dict[str, Any]) -> None:
    with pytest.raises(TownsquareError, match="Nobody: choose a team to email or a chat destination"):
        services.audience_save(
            name="Nobody", team=None, destination=None, cadence="weekly", weekday=0, hour=9, parts=[]
        )
    with pytest.raises(TownsquareError, match="Late: the hour must be 0 to 23, not 24"):
        services.audience_save(
            name="Late", team=sales["team"], destination=None, cadence="weekly", weekday=0, hour=24, parts=[]
        )
    with pytest.raises(TownsquareError, match="an audience called Sales already exists"):
        services.audience_save(
            name="sales", team=sales["team"], destination=None, cadence="weekly", weekday=0, hour=9, parts=[]
        )


def test_the_hourly_schedule_builds_each_due_draft_once(sales: dict[str, Any]) -> None:
    biweekly = AudienceFactory(name="Engineering", cadence=Audience.Cadence.BIWEEKLY, weekday=0, hour=10)
    assert "audience-update-drafts" in registered_jobs()
    # Monday 7 Dec, 08:00: nobody is due yet; 09:30: Sales is; 10:30: both; again at 11: nothing new.
    assert services.updates_build_due(now=_at(END, 8)) == []
    assert [u.audience.name for u in services.updates_build_due(now=_at(END, 9) + dt.timedelta(minutes=30))] == [
        "Sales"
    ]
    built = services.updates_build_due(now=_at(END, 10) + dt.timedelta(minutes=30))
    assert [u.audience.name for u in built] == ["Engineering"]
    assert services.updates_build_due(now=_at(END, 11)) == []
    assert Update.objects.count() == 2
    # A week later the weekly audience is due again, the biweekly one is not; two weeks later both are.
    next_week = END + dt.timedelta(days=7)
    assert [u.audience.name for u in services.updates_build_due(now=_at(next_week, 11))] == ["Sales"]
    later = END + dt.timedelta(days=14)
    assert sorted(u.audience.name for u in services.updates_build_due(now=_at(later, 11))) == ["Engineering", "Sales"]
    assert biweekly.updates.get(period_end=later).period_start == END


def test_the_scheduler_enqueues_the_drafts_task(sales: dict[str, Any], settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    schedules_sync()
    row = Schedule.objects.get(name="audience-update-drafts")
    assert row.task_path == "townsquare.updates.tasks.build_due_update_drafts_task"
    Schedule.objects.filter(pk=row.pk).update(next_run_at=timezone.now() - dt.timedelta(minutes=1))
    sales["audience"].weekday = timezone.now().astimezone(company_tz()).weekday()
    sales["audience"].hour = 0
    sales["audience"].save()
    assert "audience-update-drafts" in scheduler_tick()
    assert Update.objects.filter(audience=sales["audience"]).count() == 1


def test_sending_records_email_and_chat_once(sales: dict[str, Any], http_endpoint: Any) -> None:
    destination = notify.destination_save(name="#sales", url=http_endpoint.url("json"), purposes=[], enabled=True)
    audience = sales["audience"]
    audience.destination = destination
    audience.save()
    _done_task("Streaming demo", ("demo",), END - dt.timedelta(days=2))
    update = services.update_build_draft(audience=audience, period_end=END)

    outcome = services.update_send(update=update, by=sales["dana"])

    assert outcome.sent_now
    rows = Notification.objects.filter(event_key=f"updates.sent:{update.pk}")
    assert sorted(r.target for r in rows) == [f"dest:{destination.pk}", "email:sofia@example.com"]
    email = rows.get(email="sofia@example.com")
    assert "Streaming demo" in email.body and "Ask DevRel about this" in email.body_html
    assert f"/updates/{update.pk}/ask/?item=" in email.body_html
    again = services.update_send(update=update, by=sales["dana"])
    assert not again.sent_now and rows.count() == 2
    with pytest.raises(TownsquareError, match="a sent update cannot change"):
        services.update_draft_save(update=update, note="late", items={})


def test_an_update_nobody_would_receive_is_not_sent(make_user: Any) -> None:
    audience = AudienceFactory(name="Empty team")
    update = services.update_build_draft(audience=audience, period_end=END)
    services.update_draft_save(update=update, note="Hi", items={})
    with pytest.raises(TownsquareError, match="Empty team has nobody to send to"):
        services.update_send(update=update, by=None)
    update.refresh_from_db()
    assert not update.is_sent


def test_hostile_text_is_escaped_in_email_html_text_and_chat(sales: dict[str, Any]) -> None:
    _done_task(HOSTILE, ("demo",), END - dt.timedelta(days=2), description=HOSTILE)
    update = services.update_build_draft(audience=sales["audience"], period_end=END)
    services.update_draft_save(update=update, note=HOSTILE, items={})
    items = list(update.items.all())
    text, html = services.update_email(update=update, items=items)
    chat = services.update_chat(update=update, items=items)

    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&amp;amp;" in html and 'href="http://evil.example"' not in html
    assert "@channel" not in html and "@channel" not in text and "@channel" not in chat
    assert "@\u2060channel" in text  # plain text stays readable, the mention is dead
    assert r"\<script\>" in chat and r"\*\*bold\*\*" in chat and r"\[click\](http://evil.example)" in chat
    assert "[click](http://evil.example)" not in chat.replace("\\", "X")


def test_a_question_is_answered_and_turned_into_a_request(sales: dict[str, Any]) -> None:
    BudgetFactory(team=sales["team"], points=15)
    _done_task("Streaming demo", ("demo",), END - dt.timedelta(days=2))
    update = services.update_build_draft(audience=sales["audience"], period_end=END)
    with pytest.raises(TownsquareError, match="questions open once the update is sent"):
        services.question_ask(update=update, by=sales["sofia"], text="too early")
    services.update_send(update=update, by=sales["dana"])
    item = update.items.get()

    question = services.question_ask(update=update, by=sales["sofia"], text="What else is there?", item=item)
    assert (question.team, question.item, question.status) == (sales["team"], item, Question.Status.OPEN)
    services.question_answer(question=question, by=sales["dana"], answer="A recorded version, and a webinar.")
    services.question_to_request(question=question, by=sales["dana"])

    question.refresh_from_db()
    request = Request.objects.get()
    assert question.outcome == Question.Outcome.REQUEST and question.outcome_url == request.get_absolute_url()
    assert (request.team, request.requester, request.type.slug) == (sales["team"], sales["sofia"], "qa-session")
    assert "What else is there?" in request.details["question"]
    with pytest.raises(TownsquareError, match=f"question {question.pk} is already a request"):
        services.question_to_task(question=question, by=sales["dana"])


def test_questions_become_board_tasks_and_feedback_notes(sales: dict[str, Any]) -> None:
    theme = _theme("SSO for enterprise", customer_count=2, why_now="Renewals in December.")
    update = services.update_build_draft(audience=sales["audience"], period_end=END)
    services.update_send(update=update, by=sales["dana"])
    item = update.items.get(source_ref=f"theme:{theme.pk}")
    dana: User = sales["dana"]

    to_task = services.question_ask(update=update, by=sales["sofia"], text="Can we get a one-pager?")
    services.question_to_task(question=to_task, by=dana)
    task = Task.objects.get(title="Can we get a one-pager?")
    assert {label.name for label in task.labels.all()} == {"question", "Sales"}

    to_note = services.question_ask(update=update, by=sales["sofia"], text="Acme asks too", item=item)
    services.question_to_feedback(question=to_note, by=dana)
    theme.refresh_from_db()
    assert theme.why_now.startswith("Renewals in December.\nSales asked on 30 Nov")
    assert theme.why_now.endswith("Acme asks too")


def test_questions_per_team_and_month_feed_the_value_report(sales: dict[str, Any], make_user: Any) -> None:
    eli = make_user(Role.STAKEHOLDER_MEMBER, username="eli", team="Engineering")
    update = services.update_build_draft(audience=sales["audience"], period_end=END)
    services.update_draft_save(update=update, note="Hi", items={})
    services.update_send(update=update, by=None)
    q1 = services.question_ask(update=update, by=sales["sofia"], text="one")
    services.question_ask(update=update, by=sales["sofia"], text="two")
    services.question_ask(update=update, by=eli, text="three")
    services.question_answer(question=q1, by=sales["dana"], answer="yes")
    Question.objects.filter(text="three").update(created_at=_at(dt.date(2026, 10, 3)))

    today = dt.date.today()
    rows = questions_per_team(start=today - dt.timedelta(days=1), end=today + dt.timedelta(days=1))
    assert [(r.team_name, r.asked, r.answered) for r in rows] == [("Sales", 2, 1)]
    everything = questions_per_team(start=dt.date(2026, 1, 1), end=today + dt.timedelta(days=1))
    assert [(r.team_name, r.asked) for r in everything] == [("Sales", 2), ("Engineering", 1)]
    months = questions_per_month(audience=sales["audience"])
    assert (months[0]["month"].month, months[0]["asked"], months[0]["answered"]) == (10, 1, 0)
    assert sum(m["asked"] for m in months) == 3
