from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from townsquare.core.quarters import current_quarter
from townsquare.intake.models import Budget, RequestType
from townsquare.people.models import Team, TeamMembership


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.LazyAttribute(lambda o: o.name.lower().replace(" ", "-"))
    kind = Team.Kind.MARKETING


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"person{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    first_name = factory.Sequence(lambda n: f"Person{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TeamMembership

    team = factory.SubFactory(TeamFactory)
    user = factory.SubFactory(UserFactory)
    is_lead = False


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

    team = factory.SubFactory(TeamFactory)
    quarter = factory.LazyFunction(lambda: current_quarter().key)
    points = 15
