from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.urls import reverse

from townsquare.core.weeks import iso_week_label


class Report(models.Model):
    """The weekly feedback report for one department (or all), immutable once published.

    A correction is a new revision (``supersedes`` points at the old one); the old
    revision stays readable at its permanent link and says it was corrected.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    week_start = models.DateField(help_text="Monday of the ISO week, in the company time zone.")
    department = models.ForeignKey(
        "people.Team",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reports",
        help_text="Empty: the company-wide report.",
    )
    revision = models.PositiveIntegerField(default=1)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    intro = models.TextField(blank=True, help_text="The curators' opening note.")
    correction_note = models.TextField(blank=True, help_text="What a revision corrects.")
    dropped_theme_ids = models.JSONField(
        default=list,
        blank=True,
        help_text="Themes a curator dropped from this draft: following curation never re-adds them.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-week_start", "department__name", "-revision"]
        constraints = [
            models.UniqueConstraint(fields=["week_start", "department", "revision"], name="report_unique_revision"),
            models.UniqueConstraint(
                fields=["week_start", "revision"],
                condition=models.Q(department__isnull=True),
                name="report_unique_revision_all",
            ),
        ]
        indexes = [
            # Serves the archive (newest weeks first, per department) and the Atom feeds.
            models.Index(fields=["status", "-week_start"], name="report_archive_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.department_name} · week of {self.week_start:%Y-%m-%d}" + (
            f" (rev. {self.revision})" if self.revision > 1 else ""
        )

    def get_absolute_url(self) -> str:
        return reverse("reports:report", args=[self.pk])

    @property
    def department_name(self) -> str:
        return self.department.name if self.department else "All departments"

    @property
    def subject(self) -> str:
        """The email subject and chat title: department, ISO week, and which correction this is."""
        subject = f"{self.department_name} feedback report, week {iso_week_label(self.week_start)}"
        return subject + (f" (correction {self.revision - 1})" if self.revision > 1 else "")

    @property
    def week_end(self) -> dt.date:
        return self.week_start + dt.timedelta(days=6)

    @property
    def iso_week(self) -> str:
        year, week, _ = self.week_start.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    def totals(self, items: list[ReportItem]) -> dict[str, int]:
        """Headline figures over the given items (people may appear under several themes)."""
        customers = {c.get("name") for item in items for c in item.customers}
        enterprise = {c.get("name") for item in items for c in item.customers if c.get("tier") == "enterprise"}
        return {
            "themes": len(items),
            "people": sum(item.people_count for item in items),
            "customers": len(customers),
            "enterprise": len(enterprise),
            "rising": sum(1 for item in items if item.trend == ReportItem.Trend.RISING),
        }


class ReportItem(models.Model):
    """A snapshot of one theme at publication: later changes to the theme never alter it."""

    class Trend(models.TextChoices):
        NEW = "new", "New"
        RISING = "rising", "Rising"
        STEADY = "steady", "Steady"
        FALLING = "falling", "Falling"

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    theme_id = models.BigIntegerField(
        null=True, blank=True, help_text="The live theme, if it still exists (no FK: themes may be merged or deleted)."
    )
    title = models.CharField(max_length=300)
    summary = models.TextField(blank=True)
    key_phrases = models.JSONField(default=list, blank=True)
    message_count = models.PositiveIntegerField(default=0)
    people_count = models.PositiveIntegerField(default=0)
    people_last_week = models.PositiveIntegerField(default=0)
    customer_count = models.PositiveIntegerField(default=0)
    customers = models.JSONField(default=list, blank=True, help_text="[{name, tier, annual_revenue}]")
    revenue_total = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    channels = models.JSONField(default=list, blank=True, help_text="Channel names where the theme was discussed.")
    trend = models.CharField(max_length=10, choices=Trend.choices, default=Trend.NEW)
    score = models.FloatField(default=0)
    note = models.TextField(blank=True, help_text="Why this matters now (the curator's note).")
    quotes = models.JSONField(default=list, blank=True, help_text="[{text, author, channel, url, message_id}]")
    threads = models.JSONField(default=list, blank=True, help_text="[{title, url, channel}]: every source thread.")
    issue_url = models.URLField(max_length=500, blank=True)
    addressed_in = models.CharField(max_length=200, blank=True, help_text="Release or page that addressed the theme.")
    pinned = models.BooleanField(
        default=False, help_text="A curator added it: it stays in the draft even if its theme is routed elsewhere."
    )
    edited = models.BooleanField(
        default=False, help_text="A curator edited its title or note: refreshing the draft keeps their words."
    )

    class Meta:
        ordering = ["report", "position"]
        constraints = [models.UniqueConstraint(fields=["report", "position"], name="report_item_unique_position")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("reports:item", args=[self.report_id, self.position])

    @property
    def anchor(self) -> str:
        return f"item-{self.position}"

    @property
    def tiers(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for customer in self.customers:
            counts[customer.get("tier", "")] = counts.get(customer.get("tier", ""), 0) + 1
        return counts


class Subscription(models.Model):
    """Who receives a department's report by email: a person, or a whole team."""

    department = models.ForeignKey(
        "people.Team",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="report_subscriptions",
        help_text="Empty: the company-wide report.",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="report_subscriptions"
    )
    team = models.ForeignKey(
        "people.Team",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Every member of this team receives it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) ^ models.Q(team__isnull=False), name="subscription_user_xor_team"
            ),
            models.UniqueConstraint(fields=["department", "user"], name="subscription_unique_user"),
            models.UniqueConstraint(fields=["department", "team"], name="subscription_unique_team"),
        ]

    def __str__(self) -> str:
        who = self.user or self.team
        return f"{who} → {self.department or 'all departments'}"


class Unsubscribe(models.Model):
    """A person who opted out of a department's report even though their team subscribes."""

    department = models.ForeignKey("people.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["department", "user"], name="unsubscribe_unique")]

    def __str__(self) -> str:
        return f"{self.user} unsubscribed from {self.department or 'all departments'}"
