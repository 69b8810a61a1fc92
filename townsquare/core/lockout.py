"""Login lockout: too many failed passwords for one username, or from one address, and logins are refused.

The count lives in the database (``LoginAttempt``), so every web process and worker sees the same one.
Only real password checks count: attempts refused while locked out are logged but do not extend the lock,
which ends ``LOGIN_LOCKOUT_MINUTES`` after the last counted failure. A successful login clears the
username's failures (not the address's: an attacker with an account of their own must not reset it).
An administrator unlocks a username or an address from the admin's login attempts list (``login_unlock``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from townsquare.core.models import LoginAttempt

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)


def client_address(request: HttpRequest | None) -> str | None:
    """The client's address: ``REMOTE_ADDR``, or the entry ``TRUSTED_PROXY_COUNT`` hops back in X-Forwarded-For."""
    if request is None:
        return None
    hops = settings.TRUSTED_PROXY_COUNT
    if hops:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR") or None


def lockout_message(*, username: str, address: str | None, now: dt.datetime | None = None) -> str:
    """Why a login of ``username`` from ``address`` is refused now, or "" when it may be tried."""
    since = (now or timezone.now()) - dt.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    counted = LoginAttempt.objects.filter(outcome=LoginAttempt.Outcome.FAILED, cleared=False, at__gte=since)
    minutes = settings.LOGIN_LOCKOUT_MINUTES
    if counted.filter(username=_normal(username)).count() >= settings.LOGIN_FAILURES_PER_USER:
        return (
            f"Too many failed logins for this account: try again in {minutes} minutes, "
            "or ask an administrator to unlock it."
        )
    if address and counted.filter(address=address).count() >= settings.LOGIN_FAILURES_PER_ADDRESS:
        return (
            f"Too many failed logins from your network address: try again in {minutes} minutes, "
            "or ask an administrator to unlock it."
        )
    return ""


def login_attempt_record(*, username: str, address: str | None, outcome: str) -> LoginAttempt:
    attempt = LoginAttempt.objects.create(username=_normal(username), address=address, outcome=outcome)
    if outcome == LoginAttempt.Outcome.SUCCEEDED:
        LoginAttempt.objects.filter(username=attempt.username, outcome=LoginAttempt.Outcome.FAILED).update(cleared=True)
    else:
        logger.warning("login attempt %s: %s", attempt.pk, outcome)
    return attempt


def login_unlock(*, usernames: Iterable[str] = (), addresses: Iterable[str | None] = ()) -> int:
    """Clear the counted failures of ``usernames`` or from ``addresses``; returns how many were cleared."""
    failures = LoginAttempt.objects.filter(outcome=LoginAttempt.Outcome.FAILED, cleared=False)
    chosen = Q(username__in={_normal(u) for u in usernames}) | Q(address__in={a for a in addresses if a})
    cleared = failures.filter(chosen).update(cleared=True)
    logger.info("login lockout: %s failure(s) cleared by an administrator", cleared)
    return cleared


def _normal(username: str) -> str:
    return (username or "").strip().lower()[:150]


class LockoutModelBackend(ModelBackend):
    """Django's model backend behind the lockout: every login form (ours, the admin's) goes through it."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if username is None or password is None:
            return None
        address = client_address(request)
        if lockout_message(username=username, address=address):
            login_attempt_record(username=username, address=address, outcome=LoginAttempt.Outcome.LOCKED)
            raise PermissionDenied("locked out")  # authenticate() stops here: no later backend is tried
        user = super().authenticate(request, username=username, password=password, **kwargs)
        outcome = LoginAttempt.Outcome.SUCCEEDED if user is not None else LoginAttempt.Outcome.FAILED
        login_attempt_record(username=username, address=address, outcome=outcome)
        return user
