"""Private feed links: feed readers can't log in, so a per-user token in the link stands in for the session.

Tokens are random, stored only as a SHA-256 digest (``FeedToken``), shown once when made, revocable on the
account page, and void once the user's password changes or the user is deactivated. The gunicorn access log
leaves query strings out (``core/management/commands/serve.py``), so the token is written nowhere.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Iterable
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from townsquare.core import roles
from townsquare.core.models import FeedToken

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _password_mark(user: User) -> str:
    return salted_hmac("townsquare.feeds.password", user.password, algorithm="sha256").hexdigest()


def feed_token_issue(*, user: User) -> str:
    """Make the user's feed token (replacing any earlier one) and return it: the only time it can be read."""
    token = secrets.token_urlsafe(32)
    FeedToken.objects.update_or_create(
        user=user, defaults={"digest": _digest(token), "password_mark": _password_mark(user), "last_used_at": None}
    )
    logger.info("feed token issued for user %s", user.pk)
    return token


def feed_token_revoke(*, user: User) -> bool:
    deleted, _ = FeedToken.objects.filter(user=user).delete()
    return bool(deleted)


def feed_token_user(token: str) -> User | None:
    """The active user whose current token this is, or None (unknown, revoked, or the password changed since)."""
    if not token:
        return None
    row = FeedToken.objects.select_related("user").filter(digest=_digest(token)).first()
    if row is None or not row.user.is_active:
        return None
    if not constant_time_compare(row.password_mark, _password_mark(row.user)):
        row.delete()  # the password changed: the old link dies with it
        return None
    FeedToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
    return row.user


def feed_view(allowed: Iterable[str]) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """A feed answers a logged-in session or a valid ``?token=``; either way the user needs an allowed role."""
    allowed_set = frozenset(allowed)

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_not_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                user = feed_token_user(request.GET.get("token", ""))
                if user is None:
                    return HttpResponse(
                        "This feed link is not valid (revoked, replaced, or your password changed): "
                        "make a new one on your Townsquare account page.",
                        status=403,
                        content_type="text/plain",
                    )
                request.user = user
            if not roles.has_role(request.user, allowed_set):
                return HttpResponse("This feed is not available to you.", status=403, content_type="text/plain")
            return view(request, *args, **kwargs)

        wrapper.allowed_roles = allowed_set  # type: ignore[attr-defined]
        return wrapper

    return decorator
