"""The ``request_from_question`` hook: a question on an update becomes a request filed for the asker's team."""

from __future__ import annotations

from typing import Any

import pytest

from townsquare.core import hooks
from townsquare.core.errors import TownsquareError
from townsquare.core.roles import Role
from townsquare.intake.models import RequestType
from townsquare.intake.tests.factories import BudgetFactory
from townsquare.people.models import Team

pytestmark = pytest.mark.django_db


def _file(user: Any, team: Team) -> Any:
    [(key, request)] = hooks.request_from_question.call(
        team=team, requester=user, title="What else is there?", details={"question": "q"}, by=None
    )
    assert key == "townsquare.intake.services.request_file_from_question"
    return request


def test_a_question_is_filed_as_a_qa_session_or_the_cheapest_service(make_user: Any) -> None:
    sofia = make_user(Role.STAKEHOLDER_MEMBER, team="Sales")
    sales = Team.objects.get(slug="sales")
    BudgetFactory(team=sales, points=15)
    assert _file(sofia, sales).type.slug == "qa-session"
    RequestType.objects.filter(slug="qa-session").update(active=False)
    fallback = _file(sofia, sales)
    assert fallback.type.mode == RequestType.Mode.SERVICE and fallback.points == 1


def test_a_team_without_a_budget_gets_a_clear_refusal(make_user: Any) -> None:
    sofia = make_user(Role.STAKEHOLDER_MEMBER, team="Sales")
    with pytest.raises(TownsquareError, match="Sales has no budget for"):
        _file(sofia, Team.objects.get(slug="sales"))
