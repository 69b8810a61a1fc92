from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from townsquare.people.models import Account, Identity, Member, Organization, OrganizationDomain, Team, TeamMembership

# One factory per model, here in the app that owns the model (users included: people manages accounts).
# Other apps import these, or subclass one to change a default their tests count on.


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


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.LazyAttribute(lambda o: o.name.lower().replace(" ", "-"))
    kind = Team.Kind.OTHER


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"person{n}")
    first_name = factory.Sequence(lambda n: f"Person{n}")
    last_name = "Example"
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")


class TeamMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TeamMembership

    team = factory.SubFactory(TeamFactory)
    user = factory.SubFactory(UserFactory)
    is_lead = False
