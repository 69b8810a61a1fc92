"""Stored community-health and channel-map figures: pages read these, the recompute task writes them.

A snapshot holds aggregates only (counts, medians, people per channel combination) and message ids for
the unanswered list, never names or message text: an erased person's titles leave the pages at once,
because the list is read from the messages table at render time.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import models
from django.urls import reverse

from townsquare.sources.models import Source


class HealthSnapshot(models.Model):
    """One recomputation of every health figure and the channel map."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True, help_text="Wall time of the computation.")
    messages = models.PositiveBigIntegerField(default=0, help_text="Messages read.")
    people = models.PositiveIntegerField(default=0, help_text="Distinct members with at least one message.")
    first_month = models.CharField(max_length=7, blank=True, help_text="YYYY-MM of the oldest message.")
    last_month = models.CharField(max_length=7, blank=True, help_text="YYYY-MM of the newest message.")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Serves "the latest succeeded snapshot" on every Value page.
            models.Index(fields=["status", "-finished_at"], name="health_snapshot_latest_idx"),
        ]

    def __str__(self) -> str:
        return f"health snapshot {self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)


class HealthFigures(models.Model):
    """The health figures of one scope: every source together (``source`` empty) or one source."""

    snapshot = models.ForeignKey(HealthSnapshot, on_delete=models.CASCADE, related_name="figures")
    source = models.ForeignKey(Source, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    data = models.JSONField(default=dict, help_text="Monthly series, quarterly figures, cohorts (see health.py).")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "source"], name="health_figures_one_per_scope"),
            models.UniqueConstraint(
                fields=["snapshot"], condition=models.Q(source__isnull=True), name="health_figures_one_overall"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.snapshot_id}: {self.source_id or 'all sources'}"


class ChannelMap(models.Model):
    """Who is active where over one window (the last 3 or 12 months of data, or all of it)."""

    class Window(models.TextChoices):
        QUARTER = "3m", "Last 3 months of data"
        YEAR = "12m", "Last 12 months of data"
        ALL = "all", "All time"

    snapshot = models.ForeignKey(HealthSnapshot, on_delete=models.CASCADE, related_name="channel_maps")
    window = models.CharField(max_length=4, choices=Window.choices)
    data = models.JSONField(default=dict, help_text="Per-channel figures and people per channel set (channels.py).")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["snapshot", "window"], name="channel_map_one_per_window")]

    def __str__(self) -> str:
        return f"{self.snapshot_id}: {self.window}"


class ConsolidationScenario(models.Model):
    """A saved "what if we retired these channels" question; its answer is recomputed from the latest map."""

    name = models.CharField(max_length=200)
    retire = models.ManyToManyField(Source, related_name="+", help_text="The channels (sources) to retire.")
    destination = models.ForeignKey(
        Source,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Where their people should go; empty = a new channel nobody uses yet.",
    )
    window = models.CharField(max_length=4, choices=ChannelMap.Window.choices, default=ChannelMap.Window.YEAR)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("metrics:scenario", args=[self.pk])

    def query(self) -> dict[str, Any]:
        """The Channels page's GET parameters that ask the same question (a linkable, editable copy)."""
        return {
            "window": self.window,
            "retire": sorted(s.pk for s in self.retire.all()),
            "to": self.destination_id or "new",
        }

    def channels_url(self) -> str:
        return reverse("metrics:channels") + "?" + urlencode(self.query(), doseq=True)
