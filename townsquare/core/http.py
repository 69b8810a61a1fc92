"""Typed requests for views that only a logged-in user reaches.

``LoginRequiredMiddleware`` turns every anonymous request away before a view runs (the few public views
say ``@login_not_required`` and keep ``HttpRequest``), and ``HtmxMiddleware`` sets ``request.htmx`` on
every request. So a view behind the login can promise its code a real ``User`` and ``htmx`` instead of
``User | AnonymousUser`` and an attribute mypy cannot see. These classes are annotations only: Django
still builds a plain ``HttpRequest`` (or DRF a ``Request``), nothing is instantiated from them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest
from rest_framework.request import Request

if TYPE_CHECKING:
    # Types only: importing auth models at import time of a module that core's apps load early is fragile.
    from django.contrib.auth.models import User
    from django_htmx.middleware import HtmxDetails


class AuthenticatedHttpRequest(HttpRequest):
    user: User
    htmx: HtmxDetails


class AuthenticatedRequest(Request):
    """A DRF request that passed authentication and a role permission (``HasRole`` refuses anonymous users)."""

    user: User
