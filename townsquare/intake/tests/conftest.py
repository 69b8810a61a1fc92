from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from townsquare.core.roles import Role
from townsquare.intake.models import Budget, RequestType
from townsquare.intake.tests.factories import BudgetFactory, MentoringTypeFactory, RequestTypeFactory


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """make_user sets real passwords; a fast hasher keeps these tests quick (logins still work)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Setup:
    team: Any
    budget: Budget
    member: Any
    other_member: Any
    lead: Any
    devrel: Any
    blog: RequestType
    qa: RequestType
    coaching: RequestType


@pytest.fixture
def setup(make_user: Any) -> Setup:
    """Marketing with a 10-point budget this quarter, two members and a lead; a DevRel member; three types."""
    member = make_user(Role.STAKEHOLDER_MEMBER, username="mia", team="Marketing", full_name="Mia Chen")
    other = make_user(Role.STAKEHOLDER_MEMBER, username="max", team="Marketing", full_name="Max Ode")
    lead = make_user(Role.STAKEHOLDER_LEAD, username="marco", team="Marketing", is_lead=True, full_name="Marco Rossi")
    devrel = make_user(Role.DEVREL_MEMBER, username="ari", team="DevRel", full_name="Ari Lindqvist")
    team = member.teams.get()
    coaching = MentoringTypeFactory(name="Coaching", slug="coaching", points=1)
    blog = RequestTypeFactory(name="Blog post", slug="blog", points=4, mentoring_alternative=coaching)
    qa = RequestTypeFactory(name="Q&A hour", slug="qa", points=1, mentoring_alternative=coaching, fields=[])
    budget = BudgetFactory(team=team, points=10)
    return Setup(
        team=team,
        budget=budget,
        member=member,
        other_member=other,
        lead=lead,
        devrel=devrel,
        blog=blog,
        qa=qa,
        coaching=coaching,
    )


@pytest.fixture
def seeded_types(db: None) -> None:
    """The request types the data migration seeds (a transactional test elsewhere may have flushed them)."""
    import importlib

    from django.apps import apps

    importlib.import_module("townsquare.intake.migrations.0002_seed_request_types").seed(apps, None)
