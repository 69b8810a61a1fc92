from __future__ import annotations

import datetime as dt
import hashlib

import factory
from django.utils import timezone

from townsquare.people.models import Account, Team
from townsquare.people.tests import factories as people_factories
from townsquare.people.tests.factories import (
    ChannelFactory,
    IdentityFactory,
    MemberFactory,
    OrganizationFactory,
    SourceFactory,
)
from townsquare.sources.models import Message

# One factory per model, owned by the model's app; this module re-exports them with feedback's defaults.
__all__ = [
    "AccountFactory",
    "ChannelFactory",
    "IdentityFactory",
    "MemberFactory",
    "MessageFactory",
    "OrganizationFactory",
    "SourceFactory",
    "TeamFactory",
]


class AccountFactory(people_factories.AccountFactory):
    """A small paying customer by default: scores in these tests are hand-counted against it."""

    tier = Account.Tier.TEAM
    annual_revenue = 10_000


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    channel = factory.SubFactory(ChannelFactory)
    source = factory.SelfAttribute("channel.source")
    external_id = factory.Sequence(lambda n: f"msg-{n}")
    kind = Message.Kind.ISSUE
    author = factory.SubFactory(IdentityFactory)
    created_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
    title = ""
    body = "Something about the product"
    url = factory.LazyAttribute(lambda o: f"https://example.com/{o.external_id}")
    content_hash = factory.LazyAttribute(lambda o: hashlib.sha256(f"{o.title}\n{o.body}".encode()).hexdigest())
