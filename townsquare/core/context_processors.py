from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from townsquare.core import roles

# The five loops, in the order a DevRel team works them.
NAVIGATION = (
    ("dashboard", "Home", "dashboard", roles.ALL),
    ("listen", "Listen", "sources:index", roles.DEVREL),
    ("feedback", "Feedback", "feedback:index", roles.READERS),
    ("requests", "Requests", "intake:index", roles.ALL),
    ("board", "Board", "board:index", roles.ALL),
    ("value", "Value", "metrics:index", roles.VALUE_READERS),
)


# Apps whose pages belong to another loop's section of the navigation.
SECTION_OF = {"reports": "feedback", "people": "listen", "updates": "value"}


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "user_roles": frozenset()}
    user_roles = roles.roles_of(user)
    current = getattr(request.resolver_match, "app_name", "") or getattr(request.resolver_match, "url_name", "")
    current = SECTION_OF.get(current, current)
    items = [
        {"key": key, "label": label, "url": reverse(url_name), "active": url_name.split(":")[0] == current or key == current}
        for key, label, url_name, allowed in NAVIGATION
        if user_roles & allowed
    ]
    return {
        "nav_items": items,
        "user_roles": user_roles,
        "is_devrel": bool(user_roles & roles.DEVREL),
        "is_lead": bool(user_roles & roles.LEADS),
    }
