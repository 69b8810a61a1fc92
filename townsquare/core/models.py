from __future__ import annotations

from django.conf import settings
from django.db import models


class Schedule(models.Model):
    """A recurring job: when due, the scheduler enqueues ``task_path`` once, whatever the number of schedulers."""

    name = models.CharField(max_length=100, unique=True)
    task_path = models.CharField(max_length=200)
    cron = models.CharField(max_length=100, help_text="Five-field cron expression in the company time zone.")
    enabled = models.BooleanField(default=True)
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_result_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["name"]
        # Serves the scheduler tick: enabled schedules whose next run is due.
        indexes = [models.Index(fields=["enabled", "next_run_at"], name="schedule_due_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.cron})"


class FeedToken(models.Model):
    """A user's private feed link token, for feed readers that cannot log in (``core/feeds.py``).

    Only its SHA-256 digest is stored: the token is shown once, when made. It stops working when revoked,
    replaced, when the user is deactivated, or when their password changes (``password_mark`` no longer matches).
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feed_token")
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the token, hex.")
    password_mark = models.CharField(max_length=64, help_text="HMAC of the password hash when it was made.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"feed token of user {self.user_id}"
