from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import resolve, reverse

from townsquare.core import roles

# The loops, in the order a DevRel team works them.
NAVIGATION = (
    ("dashboard", "Home", "dashboard", roles.ALL),
    ("listen", "Listen", "sources:index", roles.DEVREL),
    ("feedback", "Feedback", "feedback:index", roles.READERS),
    ("requests", "Requests", "intake:index", roles.ALL),
    ("board", "Board", "board:index", roles.ALL),
    ("updates", "Updates", "updates:index", roles.READERS),
    ("value", "Value", "metrics:index", roles.VALUE_READERS),
)

# Pages within each loop, shown as tabs under the main navigation (each filtered by its view's roles).
SECTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "listen": (
        ("Sources", "sources:index"),
        ("Messages", "sources:messages"),
        ("People", "people:directory"),
        ("Merge suggestions", "people:suggestions"),
        ("Organisations", "people:organizations"),
        ("Customer accounts", "people:accounts"),
    ),
    "feedback": (
        ("Themes", "feedback:index"),
        ("Weekly reports", "reports:index"),
        ("Subscriptions", "reports:subscriptions"),
    ),
    "updates": (
        ("Audience updates", "updates:index"),
        ("Link drop", "updates:links"),
        ("Newsletter", "updates:newsletters"),
    ),
}

# Apps whose pages belong to another loop's section of the navigation.
SECTION_OF = {
    "reports": "feedback",
    "people": "listen",
    "sources": "listen",
    "updates": "updates",
    "metrics": "value",
    "intake": "requests",
    "board": "board",
    "feedback": "feedback",
}


def _allowed(url: str, user_roles: frozenset[str]) -> bool:
    allowed = getattr(resolve(url).func, "allowed_roles", roles.ALL)
    return bool(user_roles & allowed)


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "user_roles": frozenset(), "user_role_labels": []}
    user_roles = roles.roles_of(user)
    match = request.resolver_match
    current = (getattr(match, "app_name", "") or getattr(match, "url_name", "")) if match else ""
    if current == "people" and getattr(match, "url_name", "") in ("teams", "team"):
        current = ""  # the internal teams pages belong to no loop
    current = SECTION_OF.get(current, current)
    items = [
        {"key": key, "label": label, "url": reverse(url_name), "active": key == current}
        for key, label, url_name, allowed in NAVIGATION
        if user_roles & allowed
    ]
    tabs: list[dict[str, Any]] = []
    for label, url_name in SECTIONS.get(current, ()):
        url = reverse(url_name)
        if _allowed(url, user_roles):
            tabs.append({"label": label, "url": url})
    # The longest tab URL that prefixes the path is the current tab.
    best = max((t for t in tabs if request.path.startswith(t["url"])), key=lambda t: len(t["url"]), default=None)
    for tab in tabs:
        tab["active"] = tab is best
    return {
        "nav_items": items,
        "section_tabs": tabs if len(tabs) > 1 else [],
        "user_roles": user_roles,
        "user_role_labels": [roles.Role(name).label for name in sorted(user_roles)],
        "is_devrel": bool(user_roles & roles.DEVREL),
        "is_lead": bool(user_roles & roles.LEADS),
    }
