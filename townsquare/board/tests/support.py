from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone


def make_due(**filters: Any) -> int:
    """Skip a backoff wait: matching outbox rows become due now (instead of sleeping in the test)."""
    from townsquare.notify.models import Notification

    return Notification.objects.filter(**filters).update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
