"""The home page: a few live figures from each loop. home sits above every app, so it reads their models."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count
from django.db.models.functions import TruncWeek
from django.urls import reverse
from django.utils import timezone

from townsquare.board.models import Column, Task
from townsquare.core import roles
from townsquare.core.quarters import current_quarter
from townsquare.core.sparklines import WEEKS, as_date, sparkline, week_starts, window_start, zero_filled
from townsquare.feedback.models import Theme
from townsquare.intake.models import Budget, Request
from townsquare.notify.models import Destination, Notification, Purpose
from townsquare.people.models import Account, Team, TeamMembership
from townsquare.reports.models import Report
from townsquare.sources.models import Message, Source


def weekly_counts(*, now: dt.datetime | None = None, weeks: int = WEEKS) -> list[dict[str, Any]]:
    """Community messages per week for the last ``weeks`` weeks (oldest first), zero-filled."""
    mondays = week_starts(now=now, weeks=weeks)
    rows = (
        Message.objects.filter(created_at__gte=window_start(mondays))
        .annotate(week=TruncWeek("created_at"))
        .values("week")
        .annotate(n=Count("id"))
    )
    return zero_filled(mondays, {as_date(row["week"]): row["n"] for row in rows})


def dashboard_summary(*, user: User) -> dict[str, Any]:
    user_roles = roles.roles_of(user)
    week_ago = timezone.now() - dt.timedelta(days=7)
    my_teams = list(Team.objects.filter(memberships__user=user).values("pk", "name", "slug"))
    summary: dict[str, Any] = {"teams": Team.objects.count(), "my_teams": my_teams}

    summary["themes"] = (
        list(
            Theme.objects.exclude(status__in=[Theme.Status.MERGED, Theme.Status.ARCHIVED])
            .order_by("-score", "-id")
            .values("pk", "title", "people_count", "customer_count")[:5]
        )
        if user_roles & roles.READERS
        else []
    )
    latest = Report.objects.filter(status=Report.Status.PUBLISHED).order_by("-week_start", "-revision")
    team_ids = [t["pk"] for t in my_teams]
    summary["my_report"] = (
        latest.filter(department_id__in=team_ids).select_related("department").first()
        or latest.filter(department__isnull=True).first()
    )

    requests = Request.objects.filter(status__in=Request.OPEN_STATUSES)
    if not user_roles & (roles.DEVREL | {roles.Role.EXECUTIVE}):
        requests = requests.filter(team_id__in=team_ids)  # stakeholders: their own teams' requests
    summary["open_requests"] = requests.count()
    summary["undecided_requests"] = requests.filter(status__in=Request.UNDECIDED_STATUSES).count()

    summary["done_this_week"] = Task.objects.filter(column=Column.DONE, done_at__gte=week_ago).count()
    summary["my_open_tasks"] = Task.objects.filter(owner=user).exclude(column=Column.DONE).count()

    if user_roles & roles.DEVREL:
        summary["messages_this_week"] = Message.objects.filter(created_at__gte=week_ago).count()
        latest_message = Message.objects.order_by("-created_at").values_list("created_at", flat=True).first()
        summary["latest_message"] = latest_message
        summary["messages_total"] = Message.objects.count() if latest_message else 0
        summary["activity"] = sparkline(weekly_counts())
        summary["destinations"] = Destination.objects.filter(enabled=True).count()
        # The same groups as the outbox filters these figures link to, so each count matches its list.
        summary["notifications_pending"] = Notification.objects.filter(status__in=Notification.QUEUED_STATUSES).count()
        summary["notifications_waiting"] = Notification.objects.filter(status=Notification.Status.WAITING).count()
        summary["notifications_attention"] = Notification.objects.filter(
            status__in=Notification.ATTENTION_STATUSES
        ).count()
    return summary


@dataclass(frozen=True)
class Step:
    """One step of the first-run checklist: done when the workspace holds what the step makes."""

    key: str
    title: str
    why: str
    url: str
    action: str
    done: bool


def first_run_steps(*, user: User) -> list[Step]:
    """What a new workspace needs before the loops have anything to show, each ticked off by the data itself.

    Shown to DevRel on the home page until every step is done; nothing is stored, so a step undone (the last
    source deleted) comes back.
    """
    quarter = current_quarter()
    invite_url = reverse("admin:auth_user_add") if user.is_staff else reverse("people:teams")
    return [
        Step(
            "source",
            "Connect a community channel",
            "GitHub, Discourse, Slack, Discord, a mailing list…: every message lands in Listen and feeds Feedback.",
            reverse("sources:source-add"),
            "Add a source",
            Source.objects.exists(),
        ),
        Step(
            "customers",
            "Import your customers",
            "A CRM export (CSV) tells which community members work at paying customers, and how much they pay.",
            reverse("people:accounts-import"),
            "Import a CRM CSV",
            Account.objects.exists(),
        ),
        Step(
            "channel",
            "Add the company's DevRel channel",
            "Finished work is announced there, with thanks to the people who helped.",
            reverse("notify:destination-new"),
            "Add a destination",
            # A handful of rows: read them rather than a JSON lookup SQLite lacks.
            any(
                Purpose.ANNOUNCEMENTS in purposes
                for purposes in Destination.objects.filter(enabled=True).values_list("purposes", flat=True)
            ),
        ),
        Step(
            "team",
            "Invite a stakeholder team",
            "Product, support or sales people with a login file requests and read the weekly report.",
            invite_url,
            "Invite people",
            TeamMembership.objects.exclude(team__kind=Team.Kind.DEVREL).exists(),
        ),
        Step(
            "budgets",
            f"Set this quarter's budgets ({quarter.label})",
            "Each team gets points for requests; DevRel sees what it spends on whom.",
            reverse("intake:budgets"),
            "Set budgets",
            Budget.objects.filter(quarter=quarter.key).exists(),
        ),
    ]
