"""Every URL, every role: pages need login and the right role.

The expected roles come from the ``allowed_roles`` that ``role_required`` (pages)
or ``RoleAPIView.roles`` (API) declares on each view, so a new page is covered as soon as
it exists, and a page without a declaration fails here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from townsquare.core.api import RoleAPIView
from townsquare.core.roles import ALL, Role

# URLs that deliberately don't follow the role rules, and why.
PUBLIC = {
    "healthz": "load-balancer probe: says only ok/unavailable",
    "login": "the login page",
    "logout": "logging out",
    "root": "redirects to the home page",
    "reports:unsubscribe": "the one-click link in report emails; a signed token is the credential",
    "reports:feed": "Atom feed for feed readers; a signed per-user token stands in for the session",
    "board:done-atom": "Atom feed for feed readers; a signed per-user token stands in for the session",
    "updates:links-slack": "Slack's slash command; Slack's request signature (signing secret) is the credential",
}
FOREIGN_PREFIXES = ("admin:", "django_rq:")  # Django admin / django-rq views: staff-only by their own checks


def walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str, Any]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), f"{namespace}{entry.name}", entry.callback


def concrete_path(route: str) -> str:
    """Fill route converters with values that match no row (allowed roles then get 404, others 403)."""
    import re

    path = re.sub(r"<int:\w+>", "999999", route)
    path = re.sub(r"<slug:\w+>", "no-such-slug", path)
    path = re.sub(r"<str:\w+>", "no-such-thing", path)
    path = re.sub(r"<(uuid:)?\w+>", "00000000-0000-0000-0000-000000000000", path)
    path = path.replace("^", "").replace("$", "").replace("\\Z", "")
    return "/" + path


def declared_roles(callback: Any) -> frozenset[str] | None:
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if isinstance(view_class, type) and issubclass(view_class, RoleAPIView):
        return view_class.roles_for("GET") if getattr(view_class, "roles", None) is not None else None
    for candidate in (callback, view_class, getattr(callback, "__wrapped__", None)):
        if candidate is not None and getattr(candidate, "allowed_roles", None) is not None:
            return frozenset(getattr(candidate, "read_roles", None) or candidate.allowed_roles)
    if view_class is not None and getattr(view_class, "permission_classes", None):
        from rest_framework.permissions import IsAuthenticated

        if list(view_class.permission_classes) == [IsAuthenticated]:
            return frozenset(ALL)
    return None


ROUTES = [
    (route, name, callback)
    for route, name, callback in walk(get_resolver().url_patterns)
    if name not in PUBLIC and not name.startswith(FOREIGN_PREFIXES) and "static" not in route
]


def test_every_view_declares_its_roles() -> None:
    undeclared = [name for _, name, callback in ROUTES if declared_roles(callback) is None]
    assert undeclared == [], f"views without role_required / allowed_roles: {undeclared}"


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "name", "callback"), ROUTES, ids=[name for _, name, _ in ROUTES])
def test_anonymous_visitors_must_log_in(client: Any, route: str, name: str, callback: Any) -> None:
    path = concrete_path(route)
    response = client.get(path)
    if response.status_code == 405:
        response = client.post(path)
    if path.startswith("/api/"):
        assert response.status_code in (401, 403), f"{name} answered {response.status_code} without login"
    else:
        assert response.status_code == 302, f"{name} answered {response.status_code} without login"
        assert response["Location"].startswith("/login/")


@pytest.mark.django_db
@pytest.mark.parametrize("role", [r.value for r in Role])
def test_each_role_reaches_exactly_the_pages_it_is_allowed(client: Any, make_user: Any, role: str) -> None:
    client.force_login(make_user(role))
    wrong = []
    for route, name, callback in ROUTES:
        allowed = role in declared_roles(callback) or role == Role.ADMIN
        path = concrete_path(route)
        response = client.get(path)
        if response.status_code == 405:
            response = client.post(path)
        if allowed and response.status_code in (401, 403):
            wrong.append(f"{name}: {role} refused ({response.status_code})")
        if not allowed and response.status_code != 403:
            wrong.append(f"{name}: {role} got {response.status_code}, expected 403")
        if response.status_code >= 500:
            wrong.append(f"{name}: server error for {role}")
    assert wrong == []
