"""Audience updates (digests) and the questions they bring back.

An :class:`Update` is a draft until it is sent; sending freezes it (its items are a
snapshot: later changes on the board or in feedback never alter what was sent), and
its page stays at its permanent link, like a published weekly report. A correction is
a new revision of the same period (``supersedes`` points at the sent one), edited and
sent like any draft; the corrected revision stays readable and links to it.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse


class Part(models.TextChoices):
    """The switchable parts of an audience's recipe, in the order an update shows them."""

    WORK = "work", "Finished DevRel work (demos, releases, content, talks)"
    THEMES = "themes", "Feedback themes for this team or paying customers"
    SUPPORT = "support", "Answered questions worth reusing and rising themes"
    EVENTS = "events", "Upcoming events and new content"
    NOTE = "note", "A note from DevRel"


DEFAULT_PARTS: dict[str, list[str]] = {
    "sales": [Part.WORK, Part.THEMES, Part.EVENTS, Part.NOTE],
    "support": [Part.WORK, Part.THEMES, Part.SUPPORT, Part.EVENTS, Part.NOTE],
    "engineering": [Part.THEMES, Part.WORK, Part.NOTE],
}


class Audience(models.Model):
    """Who receives an update and when: a stakeholder team (by email), a chat destination, or both."""

    class Cadence(models.TextChoices):
        WEEKLY = "weekly", "Every week"
        BIWEEKLY = "biweekly", "Every two weeks"

    name = models.CharField(max_length=100, unique=True)
    team = models.ForeignKey(
        "people.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="update_audiences"
    )
    destination = models.ForeignKey(
        "notify.Destination",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="A chat room that receives the summary.",
    )
    cadence = models.CharField(max_length=10, choices=Cadence.choices, default=Cadence.WEEKLY)
    weekday = models.PositiveSmallIntegerField(default=0, help_text="0 = Monday, in the company time zone.")
    hour = models.PositiveSmallIntegerField(default=9, help_text="0-23, in the company time zone.")
    parts = models.JSONField(default=list, blank=True, help_text="The recipe: enabled Part values.")
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(weekday__lte=6) & Q(hour__lte=23), name="audience_weekday_hour_in_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("updates:audience", args=[self.pk])

    @property
    def period_days(self) -> int:
        return 14 if self.cadence == self.Cadence.BIWEEKLY else 7

    def has_part(self, part: str) -> bool:
        return part in self.parts

    @property
    def schedule_label(self) -> str:
        day = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"][self.weekday]
        every = "every other" if self.cadence == self.Cadence.BIWEEKLY else "every"
        return f"{every} {day} at {self.hour:02d}:00"


class Update(models.Model):
    """One issue of an audience's update for a period [period_start, period_end), in one revision."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SENT = "sent", "Sent"

    audience = models.ForeignKey(Audience, on_delete=models.PROTECT, related_name="updates")
    period_start = models.DateField()
    period_end = models.DateField(help_text="Exclusive: the day the update is built.")
    revision = models.PositiveIntegerField(default=1)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    note = models.TextField(blank=True, help_text="The free note from DevRel.")
    correction_note = models.TextField(blank=True, help_text="What a revision corrects.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period_end", "audience__name", "-revision"]
        constraints = [
            models.UniqueConstraint(
                fields=["audience", "period_end", "revision"], name="update_one_revision_per_audience_period"
            ),
            models.CheckConstraint(condition=Q(period_start__lt=models.F("period_end")), name="update_period_order"),
        ]
        indexes = [
            # Serves the index page and the archive: sent updates, newest first.
            models.Index(fields=["status", "-period_end"], name="update_archive_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.audience.name} update, {self.period_label}" + (
            f" (rev. {self.revision})" if self.revision > 1 else ""
        )

    def get_absolute_url(self) -> str:
        return reverse("updates:update", args=[self.pk])

    @property
    def period_last_day(self) -> dt.date:
        return self.period_end - dt.timedelta(days=1)

    @property
    def period_label(self) -> str:
        return f"{self.period_start:%d %b} – {self.period_last_day:%d %b %Y}"

    @property
    def subject(self) -> str:
        """The email subject and chat title: audience, period, and which correction this is."""
        subject = f"DevRel update for {self.audience.name}, {self.period_label}"
        return subject + (f" (correction {self.correction_number})" if self.is_correction else "")

    @property
    def is_correction(self) -> bool:
        return self.supersedes_id is not None

    @property
    def correction_number(self) -> int:
        return self.revision - 1

    @property
    def correction(self) -> Update | None:
        """The revision that corrects this one (a draft or sent), or None."""
        try:
            return self.superseded_by
        except Update.DoesNotExist:
            return None

    @property
    def is_sent(self) -> bool:
        return self.status == self.Status.SENT


class UpdateItem(models.Model):
    """A snapshot of one thing in an update: a finished task, a theme, an upcoming event."""

    update = models.ForeignKey(Update, on_delete=models.CASCADE, related_name="items")
    part = models.CharField(max_length=10, choices=Part.choices)
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=40, blank=True, help_text="Demo, Release, Content, Talk, Rising theme…")
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    url = models.URLField(max_length=500, blank=True)
    people_count = models.PositiveIntegerField(default=0)
    customer_count = models.PositiveIntegerField(default=0)
    detail = models.JSONField(default=dict, blank=True, help_text="Tiers, the release that addressed it, the date.")
    source_ref = models.CharField(max_length=40, blank=True, help_text="task:<id> or theme:<id>; no FK: a snapshot.")
    edited = models.BooleanField(default=False, help_text="DevRel edited it: rebuilding the draft keeps it.")

    class Meta:
        ordering = ["update", "position"]
        constraints = [models.UniqueConstraint(fields=["update", "position"], name="update_item_unique_position")]

    def __str__(self) -> str:
        return self.title

    @property
    def anchor(self) -> str:
        return f"item-{self.pk}"


class Question(models.Model):
    """A stakeholder's reply to an update: tracked until DevRel answers, then turned into work if it needs some."""

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for DevRel"
        ANSWERED = "answered", "Answered"

    class Outcome(models.TextChoices):
        NONE = "", "Nothing further"
        REQUEST = "request", "A request"
        TASK = "task", "A board task"
        FEEDBACK = "feedback", "A feedback note"

    update = models.ForeignKey(Update, on_delete=models.CASCADE, related_name="questions")
    item = models.ForeignKey(UpdateItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="questions")
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="update_questions"
    )
    team = models.ForeignKey(
        "people.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="update_questions",
        help_text="The asker's team when they asked.",
    )
    text = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.NONE, blank=True)
    outcome_label = models.CharField(max_length=300, blank=True)
    outcome_url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # Serves questions_per_team (the value report) and the audience page's months.
            models.Index(fields=["created_at", "team"], name="update_question_team_idx"),
        ]

    def __str__(self) -> str:
        return f"question {self.pk} on {self.update_id}"

    @property
    def is_answered(self) -> bool:
        return self.status == self.Status.ANSWERED
