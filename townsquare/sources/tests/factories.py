from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from townsquare.people.tests import factories as people_factories
from townsquare.sources.models import Channel, Message, Source, SyncRun


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    name = factory.Sequence(lambda n: f"Source {n}")
    kind = Source.Kind.SLACK_EXPORT
    config = factory.LazyFunction(dict)


class SyncRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncRun

    source = factory.SubFactory(SourceFactory)
    status = SyncRun.Status.SUCCEEDED
    finished_at = factory.LazyFunction(timezone.now)


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    source = factory.SubFactory(SourceFactory)
    external_id = factory.Sequence(lambda n: f"C{n}")
    name = factory.Sequence(lambda n: f"#channel-{n}")


class IdentityFactory(people_factories.IdentityFactory):
    """People's identity factory, with Slack-style ids for chat messages."""

    realm = "slack:T1"
    external_id = factory.Sequence(lambda n: f"U{n}")
    handle = factory.Sequence(lambda n: f"person{n}")


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    source = factory.SubFactory(SourceFactory)
    channel = factory.SubFactory(ChannelFactory, source=factory.SelfAttribute("..source"))
    external_id = factory.Sequence(lambda n: f"m{n}")
    kind = Message.Kind.CHAT
    author = factory.SubFactory(IdentityFactory)
    created_at = factory.Sequence(lambda n: dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=n))
    body = factory.Sequence(lambda n: f"message body {n}")
    url = factory.Sequence(lambda n: f"https://chat.example.com/m/{n}")
    content_hash = factory.Sequence(lambda n: f"{n:064x}")
