"""API throttles (DEFAULT_THROTTLE_CLASSES), kept apart from ``core.api``: DRF imports them while it loads."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import BaseCache, caches
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

# Counts live in the "throttle" cache (a database table): shared by every web process, unlike memory. Rates are
# read per request from our settings, not frozen into DRF's at import.


class AnonThrottle(AnonRateThrottle):
    """Requests without a token or session, per client address (TOWNSQUARE_API_RATE_ANON)."""

    def __init__(self) -> None:
        self.cache: BaseCache = caches["throttle"]
        super().__init__()

    def get_rate(self) -> str:
        return str(settings.API_RATE_ANON)


class UserThrottle(UserRateThrottle):
    """Requests per authenticated user (TOWNSQUARE_API_RATE_USER)."""

    def __init__(self) -> None:
        self.cache: BaseCache = caches["throttle"]
        super().__init__()

    def get_rate(self) -> str:
        return str(settings.API_RATE_USER)
