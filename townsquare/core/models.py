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
