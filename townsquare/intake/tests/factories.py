from __future__ import annotations

import factory

from townsquare.core.quarters import current_quarter
from townsquare.intake.models import Budget, RequestType
from townsquare.people.models import Team
from townsquare.people.tests.factories import TeamFactory


class RequestTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RequestType

    name = factory.Sequence(lambda n: f"Test type {n}")
    slug = factory.Sequence(lambda n: f"test-type-{n}")
    description = "A type made for a test."
    points = 3
    mode = RequestType.Mode.SERVICE
    fields = factory.LazyFunction(
        lambda: [{"name": "audience", "label": "Who is the audience?", "kind": "text", "required": True, "help": ""}]
    )


class MentoringTypeFactory(RequestTypeFactory):
    mode = RequestType.Mode.MENTORING
    points = 1
    fields = factory.LazyFunction(list)


class BudgetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Budget

    team = factory.SubFactory(TeamFactory, kind=Team.Kind.MARKETING)
    quarter = factory.LazyFunction(lambda: current_quarter().key)
    points = 15
