"""Private feed links: feed readers can't log in, so a signed per-user token stands in for the session."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.http import HttpRequest, HttpResponse

from townsquare.core import roles

if TYPE_CHECKING:
    from django.contrib.auth.models import User

FEED_SALT = "townsquare.feeds"


def feed_token(user: User) -> str:
    return signing.dumps(user.pk, salt=FEED_SALT)


def feed_view(allowed: Iterable[str]) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """A feed answers a logged-in session or a valid ``?token=``; either way the user needs an allowed role."""
    allowed_set = frozenset(allowed)

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_not_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                try:
                    user_id = signing.loads(request.GET.get("token", ""), salt=FEED_SALT)
                except signing.BadSignature:
                    return HttpResponse(
                        "A valid feed token is required: copy the feed link from Townsquare.",
                        status=403,
                        content_type="text/plain",
                    )
                user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
                if user is None:
                    return HttpResponse("This feed link is no longer valid.", status=403, content_type="text/plain")
                request.user = user
            if not roles.has_role(request.user, allowed_set):
                return HttpResponse("This feed is not available to you.", status=403, content_type="text/plain")
            return view(request, *args, **kwargs)

        wrapper.allowed_roles = allowed_set  # type: ignore[attr-defined]
        return wrapper

    return decorator
