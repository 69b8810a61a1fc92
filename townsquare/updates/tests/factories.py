from __future__ import annotations

import datetime as dt

import factory

from townsquare.people.tests.factories import TeamFactory
from townsquare.updates.models import Audience, Part, Update

__all__ = ["AudienceFactory", "UpdateFactory"]


class AudienceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Audience

    name = factory.Sequence(lambda n: f"Audience {n}")
    team = factory.SubFactory(TeamFactory)
    cadence = Audience.Cadence.WEEKLY
    weekday = 0
    hour = 9
    parts = factory.LazyFunction(lambda: list(Part.values))


class UpdateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Update

    audience = factory.SubFactory(AudienceFactory)
    period_start = dt.date(2026, 11, 23)
    period_end = dt.date(2026, 11, 30)
