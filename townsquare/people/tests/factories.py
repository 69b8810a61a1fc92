from __future__ import annotations

import hashlib
from datetime import timedelta

import factory
from django.utils import timezone

from townsquare.people.models import Account, Identity, Member, Organization, OrganizationDomain
from townsquare.sources.models import Channel, Message, Source


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Company {n}")


class OrganizationDomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrganizationDomain

    organization = factory.SubFactory(OrganizationFactory)
    domain = factory.Sequence(lambda n: f"company{n}.com")


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    crm_id = factory.Sequence(lambda n: f"CRM-{n:05d}")
    name = factory.LazyAttribute(lambda o: o.organization.name if o.organization else f"Account {o.crm_id}")
    organization = factory.SubFactory(OrganizationFactory)
    tier = Account.Tier.BUSINESS
    annual_revenue = 100_000


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    display_name = factory.Sequence(lambda n: f"Person {n}")


class IdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Identity

    realm = "github"
    external_id = factory.Sequence(lambda n: f"user-{n}")
    handle = factory.Sequence(lambda n: f"handle{n}")
    member = factory.SubFactory(MemberFactory)


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Source {n}")
    kind = Source.Kind.GITHUB


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    source = factory.SubFactory(SourceFactory)
    external_id = factory.Sequence(lambda n: f"channel-{n}")
    name = factory.Sequence(lambda n: f"#channel-{n}")


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    source = factory.SubFactory(SourceFactory)
    channel = factory.SubFactory(ChannelFactory, source=factory.SelfAttribute("..source"))
    external_id = factory.Sequence(lambda n: f"msg-{n}")
    kind = Message.Kind.COMMENT
    author = factory.SubFactory(IdentityFactory)
    created_at = factory.Sequence(lambda n: timezone.now() - timedelta(hours=n))
    body = factory.Sequence(lambda n: f"Message body {n}")
    url = factory.LazyAttribute(lambda o: f"https://example.org/{o.external_id}")
    content_hash = factory.LazyAttribute(lambda o: hashlib.sha256(o.body.encode()).hexdigest())
