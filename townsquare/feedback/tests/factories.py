from __future__ import annotations

import datetime as dt
import hashlib

import factory
from django.utils import timezone

from townsquare.people.models import Account
from townsquare.people.tests import factories as people_factories
from townsquare.people.tests.factories import IdentityFactory, MemberFactory, OrganizationFactory, TeamFactory
from townsquare.sources.models import Message, Source
from townsquare.sources.tests import factories as sources_factories

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


class SourceFactory(sources_factories.SourceFactory):
    """A GitHub source with a unique name: feedback's messages are issues and comments."""

    class Meta:
        django_get_or_create = ("name",)

    kind = Source.Kind.GITHUB


class ChannelFactory(sources_factories.ChannelFactory):
    source = factory.SubFactory(SourceFactory)
    external_id = factory.Sequence(lambda n: f"channel-{n}")


class MessageFactory(sources_factories.MessageFactory):
    """A recent issue (the week's themes count it) with one body, so texts differ only where a test says."""

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
