"""The updates section: questions asked and answered per team on updates, and DevRel's share of the newsletter."""

from __future__ import annotations

import datetime as dt

import pytest

from townsquare.core.quarters import quarter_bounds, quarter_start
from townsquare.people.tests.factories import TeamFactory
from townsquare.updates.models import Newsletter, Question, SectionRevision
from townsquare.updates.tests.factories import UpdateFactory
from townsquare.value.sections import build_all

from .corpus import QUARTER

pytestmark = pytest.mark.django_db


def asked(update: object, team: object, *, days: int, answered: bool) -> None:
    question = Question.objects.create(
        update=update, team=team, text="What else is there?", status="answered" if answered else "open"
    )
    when = quarter_bounds(QUARTER)[0] + dt.timedelta(days=days)
    Question.objects.filter(pk=question.pk).update(created_at=when)


def issue(period_end: dt.date, devrel: int, marketer: int) -> None:
    newsletter = Newsletter.objects.create(title=f"Issue {period_end}", period_start=period_end, period_end=period_end)
    SectionRevision.objects.create(
        newsletter=newsletter, by_devrel=True, action="added", heading="h", chars_written=devrel
    )
    SectionRevision.objects.create(newsletter=newsletter, action="added", heading="h", chars_written=marketer)


def test_questions_per_team_and_the_falling_devrel_share_match_the_hand_counts() -> None:
    sales, support = TeamFactory(name="Sales"), TeamFactory(name="Support")
    update = UpdateFactory(audience__team=sales)
    asked(update, sales, days=3, answered=True)
    asked(update, sales, days=10, answered=False)
    asked(update, support, days=20, answered=True)
    asked(update, support, days=-5, answered=True)  # the quarter before: not counted
    first = quarter_start(QUARTER)
    issue(first + dt.timedelta(days=14), devrel=600, marketer=400)  # 60 %
    issue(first + dt.timedelta(days=60), devrel=200, marketer=800)  # 20 %, the latest

    section = build_all(QUARTER)["updates"]
    values = {key: f["value"] for key, f in section["figures"].items()}
    assert values == {
        "questions_asked": 3,
        "questions_answered": 2,
        "answer_share": 66.7,
        "teams_asking": 2,
        "newsletter_issues": 2,
        "devrel_share_latest": 20.0,
    }
    assert section["tables"][0]["rows"] == [["Sales", 2, 1], ["Support", 1, 1]]
    chart = section["charts"][0]
    assert chart["series"][0]["values"] == [60.0, 20.0]
    assert chart["takeaway"] == "DevRel wrote 20% of the latest issue, down from 60% in the first one shown."


def test_a_quarter_without_questions_or_issues_says_so() -> None:
    section = build_all(QUARTER)["updates"]
    assert section["empty"] is True and QUARTER.label in section["empty_reason"]
