from __future__ import annotations

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


class LoginAttempt(models.Model):
    """One password check: the log an administrator reads, and what login lockout counts (``core/lockout.py``)."""

    class Outcome(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Wrong username or password"
        LOCKED = "locked", "Refused: locked out"

    username = models.CharField(max_length=150, help_text="As typed, lower-cased; the account may not exist.")
    address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    cleared = models.BooleanField(
        default=False, help_text="No longer counted: a later login succeeded, or an administrator unlocked it."
    )

    class Meta:
        ordering = ["-at"]
        indexes = [
            # Serve the lockout checks: recent uncleared failures for one username, and for one address.
            models.Index(fields=["username", "at"], name="login_attempt_user_idx"),
            models.Index(fields=["address", "at"], name="login_attempt_address_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.username} from {self.address or 'unknown address'}: {self.outcome}"
