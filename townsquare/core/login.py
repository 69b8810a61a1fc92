"""Login lockout on django-axes: failed passwords counted per username and per client address, in the database.

Axes (``axes.handlers.database.AxesDatabaseHandler``) records every failed login (``AccessAttempt`` for the
counts, ``AccessFailureLog`` for the log the DevRel lead reads) and refuses a login once the limit is reached,
until ``LOGIN_LOCKOUT_MINUTES`` after the last failure (a refused attempt counts too). Axes compares one
count with one limit; Townsquare has a limit per parameter (``LOGIN_FAILURES_PER_USER``,
``LOGIN_FAILURES_PER_ADDRESS``), so the handler reports each count as its share of its own limit, in
thousandths, against ``AXES_FAILURE_LIMIT = 1000``. A successful login clears the username's failures only:
someone with an account of their own must not clear the failures of the names they guessed from their address.
"""

from __future__ import annotations

import logging
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

logger = logging.getLogger(__name__)

PER_MILLE = 1000  # AXES_FAILURE_LIMIT: a count at its own limit


def client_address(request: HttpRequest) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: ``REMOTE_ADDR``, or the entry ``TRUSTED_PROXY_COUNT`` hops back in X-Forwarded-For.

    Only the entries the trusted proxies appended can be believed; anything before them is the client's word.
    """
    hops = settings.TRUSTED_PROXY_COUNT
    if hops:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR") or None


def lockout_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
    """AXES_USERNAME_CALLABLE: the username as typed, trimmed and lower-cased, so ``Ana`` and ``ana`` count once."""
    if credentials:
        typed = credentials.get("username")
    else:
        typed = getattr(request, "POST", {}).get("username")
    return str(typed or "").strip().lower()[:150]


def _failures(*, username: str | None = None, address: str | None = None) -> int:
    since = AccessAttempt.objects.all()
    if settings.AXES_COOLOFF_TIME is not None:
        since = since.filter(attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME)
    chosen = since.filter(username=username) if username is not None else since.filter(ip_address=address)
    return chosen.aggregate(total=Sum("failures_since_start"))["total"] or 0


def lockout_reason(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
    """Why a login is refused now: "account", "address", or "" when it may be tried."""
    username = get_client_username(request, credentials)
    if username and _failures(username=username) >= settings.LOGIN_FAILURES_PER_USER:
        return "account"
    address = getattr(request, "axes_ip_address", None) or client_address(request)
    if address and _failures(address=address) >= settings.LOGIN_FAILURES_PER_ADDRESS:
        return "address"
    return ""


def lockout_message(reason: str) -> str:
    minutes = settings.LOGIN_LOCKOUT_MINUTES
    where = "for this account" if reason == "account" else "from your network address"
    return f"Too many failed logins {where}: try again in {minutes} minutes, or ask an administrator to unlock it."


class LoginLockoutHandler(AxesDatabaseHandler):
    """Axes' database handler with a limit per lockout parameter (see the module docstring)."""

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        username = get_client_username(request, credentials)
        address = getattr(request, "axes_ip_address", None)
        by_user = _failures(username=username) * PER_MILLE // settings.LOGIN_FAILURES_PER_USER if username else 0
        by_address = _failures(address=address) * PER_MILLE // settings.LOGIN_FAILURES_PER_ADDRESS if address else 0
        return max(by_user, by_address)

    def reset_user_attempts(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        """After a successful login: the username's failures, not the address's."""
        username = get_client_username(request, credentials)
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the login page again, saying why and for how long (429, not a bare 403)."""
    form = AuthenticationForm(request, initial={"username": get_client_username(request, credentials)})
    reason = lockout_reason(request, credentials) or "account"
    logger.warning("login refused: locked out by %s", reason)
    context = {"form": form, "lockout_message": lockout_message(reason), "next": request.POST.get("next", "")}
    return render(request, "registration/login.html", context, status=429)


def locked_now() -> list[dict[str, Any]]:
    """Usernames and addresses whose recent failures have reached their limit, with the count and the last try."""
    recent = AccessAttempt.objects.all()
    if settings.AXES_COOLOFF_TIME is not None:
        recent = recent.filter(attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME)
    locked: list[dict[str, Any]] = []
    for field, kind, limit in (
        ("username", "account", settings.LOGIN_FAILURES_PER_USER),
        ("ip_address", "address", settings.LOGIN_FAILURES_PER_ADDRESS),
    ):
        rows = (
            recent.exclude(**{f"{field}__isnull": True})
            .values(field)
            .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            .filter(failures__gte=limit)
            .order_by("-last")
        )
        locked += [
            {"kind": kind, "value": row[field], "failures": row["failures"], "last": row["last"]} for row in rows
        ]
    return locked


def login_unlock(*, username: str = "", address: str = "") -> int:
    """An administrator clears the counted failures of ``username`` or from ``address``; returns how many rows."""
    if not username and not address:
        return 0
    attempts = AccessAttempt.objects.all()
    attempts = attempts.filter(username=username.strip().lower()) if username else attempts.filter(ip_address=address)
    count, _ = attempts.delete()
    logger.info("login lockout: %s attempt record(s) cleared by an administrator", count)
    return count
