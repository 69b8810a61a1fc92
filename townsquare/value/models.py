"""Quarterly goals and the executive value report, immutable once published.

A report stores what it showed: every section's figures for its quarter and the quarter before, computed
when the draft was built (``data``). Later changes to requests, themes or kudos never alter a published
report; a correction is a new revision that supersedes it, like the weekly feedback report.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse

from townsquare.core.quarters import Quarter, quarter_parse


class Goal(models.Model):
    """One of the quarter's goals, set by the DevRel lead; optionally measured by a figure of the registry."""

    class Comparator(models.TextChoices):
        AT_LEAST = "gte", "at least"
        AT_MOST = "lte", "at most"

    quarter = models.CharField(max_length=6, help_text="Fiscal quarter key, e.g. 2026Q3.")
    position = models.PositiveIntegerField(default=0)
    text = models.CharField(max_length=300, help_text="What we set out to do.")
    company_goal = models.CharField(max_length=300, blank=True, help_text="The company goal it serves.")
    figure = models.CharField(max_length=60, blank=True, help_text="A key of value.figures.FIGURES, or empty.")
    comparator = models.CharField(max_length=3, choices=Comparator.choices, blank=True)
    target = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["quarter", "position", "id"]
        indexes = [
            # Serves "the goals of a quarter" on the goals page and at every draft build.
            models.Index(fields=["quarter", "position"], name="value_goal_quarter_idx"),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def is_measured(self) -> bool:
        return bool(self.figure)


class QuarterReport(models.Model):
    """The value report of one fiscal quarter; one row per revision."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    quarter = models.CharField(max_length=6, help_text="Fiscal quarter key, e.g. 2026Q3.")
    revision = models.PositiveIntegerField(default=1)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    narrative = models.TextField(blank=True, help_text="The lead's narrative: what it means, what we ask for.")
    notes = models.JSONField(default=dict, blank=True, help_text="The lead's note per section key.")
    hidden = models.JSONField(default=list, blank=True, help_text="Section keys the lead left out.")
    correction_note = models.TextField(blank=True, help_text="What a revision corrects.")
    data = models.JSONField(default=dict, blank=True, help_text="Sections and goals as built (see sections/).")
    built_at = models.DateTimeField(null=True, blank=True)
    recipients = models.JSONField(default=list, blank=True, help_text="Email addresses it was sent to.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-quarter", "-revision"]
        constraints = [
            models.UniqueConstraint(fields=["quarter", "revision"], name="value_report_unique_revision"),
        ]

    def __str__(self) -> str:
        return f"Value report {self.quarter_label}" + (f" (rev. {self.revision})" if self.revision > 1 else "")

    def get_absolute_url(self) -> str:
        return reverse("value:report", args=[self.pk])

    @property
    def period(self) -> Quarter:
        return quarter_parse(self.quarter)

    @property
    def quarter_label(self) -> str:
        return self.period.label

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def subject(self) -> str:
        subject = f"DevRel value report, {self.quarter_label}"
        return subject + (f" (correction {self.revision - 1})" if self.revision > 1 else "")

    def note_for(self, key: str) -> str:
        value: Any = (self.notes or {}).get(key, "")
        return str(value)
