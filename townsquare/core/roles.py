"""Roles are Django auth groups; pages (``role_required``) and API views (``core.api.RoleAPIView``) declare
which roles may use them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db import models


class Role(models.TextChoices):
    DEVREL_MEMBER = "devrel_member", "DevRel member"
    DEVREL_LEAD = "devrel_lead", "DevRel lead"
    STAKEHOLDER_MEMBER = "stakeholder_member", "Stakeholder team member"
    STAKEHOLDER_LEAD = "stakeholder_lead", "Stakeholder team lead"
    EXECUTIVE = "executive", "Executive viewer"
    ADMIN = "admin", "Administrator"


ALL = frozenset(Role)
DEVREL = frozenset({Role.DEVREL_MEMBER, Role.DEVREL_LEAD, Role.ADMIN})
LEADS = frozenset({Role.DEVREL_LEAD, Role.ADMIN})
STAKEHOLDERS = frozenset({Role.STAKEHOLDER_MEMBER, Role.STAKEHOLDER_LEAD})
READERS = DEVREL | STAKEHOLDERS | {Role.EXECUTIVE}
VALUE_READERS = DEVREL | {Role.EXECUTIVE}

_CACHE_ATTR = "_townsquare_roles"


def roles_of(user: User | AnonymousUser) -> frozenset[str]:
    """The user's roles (group names that are roles); superusers are admins. Cached per request."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        names = set(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
        if user.is_superuser:
            names.add(Role.ADMIN)
        cached = frozenset(names)
        setattr(user, _CACHE_ATTR, cached)
    return cached


def has_role(user: User | AnonymousUser, allowed: Iterable[str]) -> bool:
    return bool(roles_of(user) & set(allowed))


F = TypeVar("F", bound=Callable[..., Any])


def role_required(allowed: Iterable[str]) -> Callable[[F], F]:
    """View decorator: 403 unless the (logged-in) user has one of ``allowed`` roles."""
    allowed_set = frozenset(allowed)

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
            if not has_role(request.user, allowed_set):
                raise PermissionDenied("Your role does not give access to this page.")
            return view(request, *args, **kwargs)

        wrapper.allowed_roles = allowed_set  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator
