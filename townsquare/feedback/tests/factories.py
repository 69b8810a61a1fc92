from __future__ import annotations

import datetime as dt
import hashlib

import factory
from django.utils import timezone

from townsquare.people.models import Account, Identity, Member, Organization, Team
from townsquare.sources.models import Channel, Message, Source


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"source-{n}")
    kind = Source.Kind.GITHUB


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    source = factory.SubFactory(SourceFactory)
    external_id = factory.Sequence(lambda n: f"channel-{n}")
    name = factory.Sequence(lambda n: f"#channel-{n}")


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Org {n}")


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    crm_id = factory.Sequence(lambda n: f"crm-{n}")
    name = factory.SelfAttribute("organization.name")
    organization = factory.SubFactory(OrganizationFactory)
    tier = Account.Tier.TEAM
    annual_revenue = 10_000


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    display_name = factory.Sequence(lambda n: f"Person {n}")


class IdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Identity

    realm = "github"
    external_id = factory.Sequence(lambda n: f"user-{n}")
    handle = factory.Sequence(lambda n: f"user{n}")
    member = factory.SubFactory(MemberFactory)


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
