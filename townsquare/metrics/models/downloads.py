"""Downloads of the product, month by month: tracked packages, what their registries reported, fetch runs.

Two kinds of registry. PyPI (pypistats.org) and npm report downloads per day: those days are kept
(:class:`PackageDay`) and summed into calendar months. Docker Hub and GitHub releases report only an
all-time total: each fetch keeps a dated snapshot (:class:`PackageSnapshot`) and a month's figure is the
increase between month-end snapshots, which exists only from the second month counting began. Either way
:class:`PackageMonth` is what pages read, and it is only ever recomputed from what is stored, so a failed,
empty or garbled fetch can't remove a month we already had.
"""

from __future__ import annotations

import calendar
import datetime as dt

from django.conf import settings
from django.db import models


class TrackedPackage(models.Model):
    """A package, image or repository whose downloads we follow, and where its registry keeps it."""

    class Registry(models.TextChoices):
        PYPI = "pypi", "PyPI"
        NPM = "npm", "npm"
        DOCKER = "docker", "Docker Hub"
        GITHUB = "github", "GitHub releases"

    CUMULATIVE = frozenset({Registry.DOCKER, Registry.GITHUB})

    registry = models.CharField(max_length=10, choices=Registry.choices)
    name = models.CharField(
        max_length=214,
        help_text="PyPI project, npm package (@scope/name), Docker Hub namespace/repository, GitHub owner/repo.",
    )
    label = models.CharField(max_length=120, blank=True, help_text="Shown instead of the name, if set.")
    enabled = models.BooleanField(default=True, help_text="Fetched on schedule; a disabled package keeps its months.")
    is_demo = models.BooleanField(default=False, help_text="Demo data replayed from a recorded fixture, not fetched.")
    counting_since = models.DateField(
        null=True, blank=True, help_text="Cumulative registries: the day of the first snapshot."
    )
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, help_text="Why the last fetch of this package failed, if it did.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["registry", "name"]
        constraints = [models.UniqueConstraint(fields=["registry", "name"], name="tracked_package_unique")]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.label or self.name

    @property
    def is_cumulative(self) -> bool:
        return self.registry in self.CUMULATIVE

    @property
    def series_label(self) -> str:
        """What the monthly figure is, in words: never a rolling window, always a calendar month."""
        if self.registry == self.Registry.PYPI:
            return "Downloads per calendar month, summed from pypistats.org daily counts (mirrors excluded)"
        if self.registry == self.Registry.NPM:
            return "Downloads per calendar month, summed from npm's daily counts"
        since = f" since counting began on {self.counting_since:%Y-%m-%d}" if self.counting_since else ""
        if self.registry == self.Registry.DOCKER:
            return f"Pulls added per calendar month to Docker Hub's all-time pull count{since}"
        return f"Release asset downloads added per calendar month to GitHub's all-time counts{since}"

    @property
    def registry_url(self) -> str:
        if self.registry == self.Registry.PYPI:
            return f"https://pypi.org/project/{self.name}/"
        if self.registry == self.Registry.NPM:
            return f"https://www.npmjs.com/package/{self.name}"
        if self.registry == self.Registry.DOCKER:
            return f"https://hub.docker.com/r/{self.name}"
        return f"https://github.com/{self.name}/releases"


class PackageDay(models.Model):
    """Downloads on one UTC day, as a daily registry reported them (kept: pypistats forgets after 180 days)."""

    package = models.ForeignKey(TrackedPackage, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    downloads = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["package", "day"]
        constraints = [models.UniqueConstraint(fields=["package", "day"], name="package_day_unique")]

    def __str__(self) -> str:
        return f"{self.package} {self.day}: {self.downloads}"


class PackageSnapshot(models.Model):
    """A cumulative registry's all-time total as read on one day (the day's last reading wins)."""

    package = models.ForeignKey(TrackedPackage, on_delete=models.CASCADE, related_name="snapshots")
    taken_on = models.DateField()
    total = models.PositiveBigIntegerField()
    taken_at = models.DateTimeField()

    class Meta:
        ordering = ["package", "taken_on"]
        constraints = [models.UniqueConstraint(fields=["package", "taken_on"], name="package_snapshot_unique")]

    def __str__(self) -> str:
        return f"{self.package} {self.taken_on}: {self.total}"


class PackageMonth(models.Model):
    """One package's figure for one calendar month, derived from its days or snapshots.

    ``downloads`` is None when there is no monthly figure: no day reported, or for a cumulative registry
    the month counting began (its snapshot holds everything before) or a month whose previous month has no
    snapshot to subtract. ``complete`` is False for the month in progress and for months with missing days.
    """

    package = models.ForeignKey(TrackedPackage, on_delete=models.CASCADE, related_name="months")
    month = models.DateField(help_text="The first day of the calendar month.")
    downloads = models.PositiveBigIntegerField(null=True, blank=True)
    days_counted = models.PositiveSmallIntegerField(default=0, help_text="Days with a count (daily registries).")
    complete = models.BooleanField(default=False)
    note = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["package", "month"]
        constraints = [models.UniqueConstraint(fields=["package", "month"], name="package_month_unique")]
        indexes = [
            # Serves the Downloads page and API: every package's months within a window.
            models.Index(fields=["month"], name="package_month_month_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.package} {self.month:%Y-%m}: {self.downloads}"

    @property
    def days_in_month(self) -> int:
        return calendar.monthrange(self.month.year, self.month.month)[1]


class CommunityActivityMonth(models.Model):
    """Community messages in one calendar month (staff, bots and unknown authors excluded), for comparison."""

    month = models.DateField(unique=True, help_text="The first day of the calendar month.")
    messages = models.PositiveIntegerField(default=0)
    active_members = models.PositiveIntegerField(default=0, help_text="Distinct community members who posted.")
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}: {self.messages} messages"


class DownloadFetchRun(models.Model):
    """One fetch of every enabled package (or of one), with an error row per package that failed."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Finished with errors"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Daily schedule"
        MANUAL = "manual", "Fetch now"
        DEMO = "demo", "Demo data"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.SCHEDULE)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    packages_fetched = models.PositiveIntegerField(default=0)
    packages_failed = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"downloads fetch {self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)


class DownloadFetchError(models.Model):
    """Why one package could not be fetched in one run; the package's stored months were left as they were."""

    run = models.ForeignKey(DownloadFetchRun, on_delete=models.CASCADE, related_name="errors")
    package = models.ForeignKey(TrackedPackage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    package_name = models.CharField(max_length=260, help_text="Registry and name, kept if the package is removed.")
    reason = models.TextField()
    permanent = models.BooleanField(default=True, help_text="False when a later retry may succeed.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.package_name}: {self.reason}"


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)
