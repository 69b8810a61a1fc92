from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group
from django.db import transaction
from django.utils.text import slugify

from townsquare.core.errors import TownsquareError
from townsquare.core.roles import Role
from townsquare.people.models import Team, TeamMembership


def roles_ensure() -> list[Group]:
    """Create the role groups if missing (idempotent)."""
    return [Group.objects.get_or_create(name=role.value)[0] for role in Role]


def team_ensure(*, name: str, kind: str, description: str = "") -> Team:
    if kind not in Team.Kind.values:
        raise TownsquareError(f"unknown team kind {kind!r}", record=name)
    team, _ = Team.objects.get_or_create(slug=slugify(name), defaults={"name": name, "kind": kind, "description": description})
    return team


@transaction.atomic
def user_ensure(
    *, username: str, email: str, full_name: str, role: str, team: Team | None = None, is_lead: bool = False,
    password: str | None = None,
) -> AbstractUser:
    """Create or update a user with exactly one role and (optionally) one team membership."""
    if role not in Role.values:
        raise TownsquareError(f"unknown role {role!r}", record=username)
    User = get_user_model()
    first, _, last = full_name.partition(" ")
    user, created = User.objects.get_or_create(
        username=username, defaults={"email": email, "first_name": first, "last_name": last}
    )
    if created:
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
    user.is_superuser = user.is_staff = role == Role.ADMIN
    user.save()
    user.groups.remove(*Group.objects.filter(name__in=Role.values).exclude(name=role))
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    if team is not None:
        TeamMembership.objects.update_or_create(team=team, user=user, defaults={"is_lead": is_lead})
    return user
