"""Requests: typed intake against quarterly point budgets.

The points ledger is append-only: every movement (reserve on filing, spend on
acceptance, refund on decline or cancel, a lead's adjustment) is one row, and a
budget's balance is always the sum of its rows, never a stored counter.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from townsquare.core.quarters import Quarter, quarter_parse


class RequestType(models.Model):
    """A kind of request stakeholders can file, with its weight in points and its form fields (data)."""

    class Mode(models.TextChoices):
        SERVICE = "service", "Service (DevRel does it)"
        MENTORING = "mentoring", "Mentoring (DevRel teaches the team)"

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    points = models.PositiveIntegerField()
    mode = models.CharField(max_length=12, choices=Mode.choices, default=Mode.SERVICE)
    fields = models.JSONField(
        default=list,
        blank=True,
        help_text="The form's extra fields: a list of {name, label, kind, required, help, choices}.",
    )
    mentoring_alternative = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        limit_choices_to={"mode": "mentoring"},
        help_text="The mentoring type a repeated service request converts to when DevRel offers mentoring.",
    )
    active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=100)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("intake:file", args=[self.slug])

    @property
    def is_mentoring(self) -> bool:
        return self.mode == self.Mode.MENTORING


class Budget(models.Model):
    """A stakeholder team's points for one fiscal quarter; ``points`` is the initial allocation.

    Changes after creation are ledger adjustments with a reason, so the history stays whole.
    """

    team = models.ForeignKey("people.Team", on_delete=models.CASCADE, related_name="budgets")
    quarter = models.CharField(max_length=6, help_text="Fiscal quarter key, e.g. 2026Q3.")
    points = models.PositiveIntegerField()
    closed_at = models.DateTimeField(null=True, blank=True, help_text="Set when the DevRel lead closes the quarter.")
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-quarter", "team__name"]
        constraints = [models.UniqueConstraint(fields=["team", "quarter"], name="budget_one_per_team_quarter")]
        indexes = [
            # Serves the quarter summary: every budget of one quarter.
            models.Index(fields=["quarter"], name="budget_quarter_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.team} · {self.quarter_obj.label}"

    @property
    def quarter_obj(self) -> Quarter:
        return quarter_parse(self.quarter)

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class Request(models.Model):
    class Status(models.TextChoices):
        FILED = "filed", "Filed"
        TRIAGED = "triaged", "Triaged"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        MENTORING = "mentoring", "Redirected to mentoring"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    OPEN_STATUSES = (Status.FILED, Status.TRIAGED, Status.ACCEPTED, Status.MENTORING, Status.IN_PROGRESS)
    UNDECIDED_STATUSES = (Status.FILED, Status.TRIAGED)
    CLOSED_STATUSES = (Status.DECLINED, Status.DONE, Status.CANCELLED)

    team = models.ForeignKey("people.Team", on_delete=models.PROTECT, related_name="requests")
    budget = models.ForeignKey(Budget, on_delete=models.PROTECT, related_name="requests")
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="intake_requests")
    type = models.ForeignKey(RequestType, on_delete=models.PROTECT, related_name="requests")
    original_type = models.ForeignKey(
        RequestType,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The service type it was filed as, when converted to mentoring.",
    )
    title = models.CharField(max_length=200)
    details = models.JSONField(default=dict, blank=True, help_text="Answers to the type's form fields, by field name.")
    desired_date = models.DateField(null=True, blank=True)
    priority = models.PositiveIntegerField(default=0, help_text="The team's own rank: 1 is most important.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.FILED)
    points = models.PositiveIntegerField(help_text="What this request costs the team's budget.")
    mentoring_candidate = models.BooleanField(
        default=False, help_text="At filing, the team's third or later service request of this type this quarter."
    )
    mentoring_plan = models.TextField(blank=True)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The team lead who filed it over budget.",
    )
    override_at = models.DateTimeField(null=True, blank=True)
    uniquely_devrel = models.BooleanField(null=True, help_text="Triage: is this work only DevRel can do?")
    team_could_with_guidance = models.BooleanField(null=True, help_text="Triage: could the team do it with guidance?")
    triage_note = models.TextField(blank=True)
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    triaged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["priority", "created_at"]
        indexes = [
            # Serves the triage queue (open requests by status) and the team pages (a team's requests by status).
            models.Index(fields=["status", "team"], name="request_status_team_idx"),
            # Serves the mentoring-candidate count: a team's requests of one type in one budget.
            models.Index(fields=["budget", "type"], name="request_budget_type_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("intake:request", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_undecided(self) -> bool:
        return self.status in self.UNDECIDED_STATUSES

    @property
    def was_overridden(self) -> bool:
        return self.override_at is not None


class RequestEvent(models.Model):
    """One status change of a request, with who made it: the request's history."""

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=12, choices=Request.Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=Request.Status.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.from_status or '∅'} → {self.to_status}"


class LedgerEntry(models.Model):
    """One movement of points; rows are only ever added.

    Each row carries three signed deltas: ``allowance`` (the lead's adjustments),
    ``reserved`` and ``spent``. Balance = budget.points + Σallowance − Σreserved − Σspent.
    """

    class Kind(models.TextChoices):
        RESERVE = "reserve", "Reserved on filing"
        SPEND = "spend", "Spent on acceptance"
        REFUND = "refund", "Refunded"
        ADJUST = "adjust", "Adjusted by the lead"

    budget = models.ForeignKey(Budget, on_delete=models.PROTECT, related_name="entries")
    request = models.ForeignKey(Request, null=True, blank=True, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    allowance = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    spent = models.IntegerField(default=0)
    reason = models.CharField(max_length=300, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name_plural = "ledger entries"
        indexes = [
            # Serves the balance sum and the team page's ledger: a budget's rows in order.
            models.Index(fields=["budget", "created_at"], name="ledger_budget_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.effect:+d} ({self.budget})"

    @property
    def effect(self) -> int:
        """How this row changed the available balance."""
        return self.allowance - self.reserved - self.spent
