from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth.models import AbstractBaseUser

from townsquare.core import roles


def dashboard_summary(*, user: AbstractBaseUser) -> dict[str, Any]:
    """Counts for the home page, read through the app registry so core imports no app."""
    Team = apps.get_model("people", "Team")
    Notification = apps.get_model("notify", "Notification")
    Destination = apps.get_model("notify", "Destination")
    summary: dict[str, Any] = {
        "teams": Team.objects.count(),
        "my_teams": list(Team.objects.filter(memberships__user=user).values("name", "slug")),
    }
    if roles.has_role(user, roles.DEVREL):
        summary["destinations"] = Destination.objects.filter(enabled=True).count()
        summary["notifications_pending"] = Notification.objects.filter(
            status__in=[Notification.Status.PENDING, Notification.Status.FAILED, Notification.Status.SENDING]
        ).count()
        summary["notifications_attention"] = Notification.objects.filter(
            status__in=[Notification.Status.DEAD, Notification.Status.UNCERTAIN]
        ).count()
    return summary
