"""The task board: tasks in columns, collaborators from other teams, history, kudos, announcements."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class Column(models.TextChoices):
    BACKLOG = "backlog", "Backlog"
    DOING = "doing", "Doing"
    REVIEW = "review", "Review"
    DONE = "done", "Done"


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public: every role can see it"
    INTERNAL = "internal", "Internal: DevRel only"


class Label(models.Model):
    name = models.CharField(max_length=50, unique=True)
    slug = models.SlugField(max_length=60, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Task(models.Model):
    """A card on the DevRel board. ``position`` orders cards within a column (gaps allowed)."""

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    column = models.CharField(max_length=10, choices=Column.choices, default=Column.BACKLOG)
    position = models.IntegerField(default=0)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="board_tasks"
    )
    due_date = models.DateField(null=True, blank=True)
    labels = models.ManyToManyField(Label, blank=True, related_name="tasks")
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC)
    # Where the work came from: an accepted request, or nothing (DevRel's own work). Feedback themes
    # will get their own nullable key when the feedback app has them.
    origin_request = models.ForeignKey(
        "intake.Request", null=True, blank=True, on_delete=models.SET_NULL, related_name="board_tasks"
    )
    completions = models.PositiveIntegerField(default=0, help_text="How many times the task reached Done.")
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["column", "position", "id"]
        indexes = [
            # Serves the board: the first cards of each column in order.
            models.Index(fields=["column", "position", "id"], name="board_task_column_pos_idx"),
            # Serves the done feed: finished public tasks, newest first.
            models.Index(fields=["visibility", "column", "-done_at"], name="board_task_done_feed_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("board:task", args=[self.pk])

    @property
    def absolute_url(self) -> str:
        """The task page as a full link, for announcements and emails that leave the site."""
        return f"{settings.BASE_URL}{self.get_absolute_url()}"

    @property
    def is_public(self) -> bool:
        return self.visibility == Visibility.PUBLIC

    @property
    def is_done(self) -> bool:
        return self.column == Column.DONE

    @property
    def is_overdue(self) -> bool:
        from django.utils import timezone

        return bool(self.due_date and not self.is_done and self.due_date < timezone.localdate())


def person_name(user: User | None) -> str:
    if user is None:
        return "someone"
    return user.get_full_name() or user.username or "someone"


class Collaborator(models.Model):
    """Someone (a user, or a person named in text) from some team who helped with a task."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="collaborators")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="board_collaborations"
    )
    name = models.CharField(max_length=200, blank=True, help_text="For people without a Townsquare login.")
    team = models.ForeignKey("people.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    contribution = models.CharField(max_length=300, help_text="What they did, e.g. “reviewed the code samples”.")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(user__isnull=False) | ~Q(name=""), name="collaborator_user_or_name"),
            models.UniqueConstraint(
                fields=["task", "user"], condition=Q(user__isnull=False), name="collaborator_user_once_per_task"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} on {self.task_id}"

    @property
    def display_name(self) -> str:
        return person_name(self.user) if self.user_id else self.name


class TaskEvent(models.Model):
    """One line of a task's history: who did what, when."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        EDITED = "edited", "Edited"
        MOVED = "moved", "Moved"
        COMPLETED = "completed", "Finished"
        REOPENED = "reopened", "Reopened"
        COLLABORATOR_ADDED = "collaborator_added", "Collaborator added"
        COLLABORATOR_REMOVED = "collaborator_removed", "Collaborator removed"
        THANKED = "thanked", "Thanked"
        ANNOUNCED = "announced", "Announced"
        ANNOUNCEMENT_DISCARDED = "announcement_discarded", "Announcement discarded"
        NOTE = "note", "Note"

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_column = models.CharField(max_length=10, choices=Column.choices, blank=True)
    to_column = models.CharField(max_length=10, choices=Column.choices, blank=True)
    detail = models.JSONField(default=dict, blank=True, help_text="Changed fields as {field: [old, new]}, or notes.")
    summary = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.task_id}: {self.kind}"


class Kudos(models.Model):
    """Credit where it is due: a collaborator credit (one per collaborator) or an explicit thank-you."""

    class Kind(models.TextChoices):
        CREDIT = "credit", "Collaborator credit"
        THANKS = "thanks", "Thank you"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="kudos")
    task_title = models.CharField(max_length=200, blank=True, help_text="Kept if the task is deleted.")
    collaborator = models.ForeignKey(
        Collaborator, null=True, blank=True, on_delete=models.CASCADE, related_name="kudos"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="kudos_received"
    )
    name = models.CharField(max_length=200, blank=True)
    team = models.ForeignKey("people.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="kudos")
    message = models.CharField(max_length=500)
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="kudos_given"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "kudos"
        constraints = [
            models.UniqueConstraint(fields=["collaborator"], name="kudos_one_credit_per_collaborator"),
            models.CheckConstraint(condition=Q(user__isnull=False) | ~Q(name=""), name="kudos_user_or_name"),
        ]
        indexes = [
            # Serve the person and team ledgers, newest first.
            models.Index(fields=["user", "-created_at"], name="kudos_user_idx"),
            models.Index(fields=["team", "-created_at"], name="kudos_team_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.display_name}"

    @property
    def display_name(self) -> str:
        return person_name(self.user) if self.user_id else self.name


class Announcement(models.Model):
    """The "X finished Y" message of one completion of a task; at most one per completion."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Waiting for review"
        QUEUED = "queued", "Sent to the outbox"
        HELD = "held", "Waiting for a destination"
        DISCARDED = "discarded", "Discarded"

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="announcements")
    completion = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    reopened = models.BooleanField(default=False)
    headline = models.CharField(max_length=300)
    note = models.TextField(blank=True, help_text="An optional personal line, shown under the headline.")
    body = models.TextField(blank=True, help_text="The Markdown message as queued.")
    event_key = models.CharField(max_length=200, blank=True)
    destinations = models.PositiveIntegerField(default=0, help_text="Outbox rows created when it was queued.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["task", "completion"], name="announcement_once_per_completion"),
        ]

    def __str__(self) -> str:
        return self.headline

    def get_absolute_url(self) -> str:
        return reverse("board:announcement", args=[self.pk])


class BoardSettings(models.Model):
    """The DevRel team's board settings: one row (pk=1)."""

    class AnnounceMode(models.TextChoices):
        AUTO = "auto", "Send announcements automatically"
        REVIEW = "review", "Preview and edit each announcement before it goes"

    announce_mode = models.CharField(max_length=10, choices=AnnounceMode.choices, default=AnnounceMode.AUTO)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "board settings"

    def __str__(self) -> str:
        return f"Board settings ({self.announce_mode})"
