from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet

from townsquare.core import roles
from townsquare.reports.models import Report, ReportItem


def reports_visible_to(*, user: User | AnonymousUser) -> QuerySet[Report]:
    """Published reports for every reader; drafts only for DevRel."""
    rows = Report.objects.select_related("department", "published_by", "superseded_by")
    if roles.has_role(user, roles.DEVREL):
        return rows
    return rows.filter(status=Report.Status.PUBLISHED)


def report_archive(*, user: User | AnonymousUser, department: str = "", query: str = "") -> QuerySet[Report]:
    rows = reports_visible_to(user=user)
    if department == "all":
        rows = rows.filter(department__isnull=True)
    elif department:
        rows = rows.filter(department__slug=department)
    if query:
        matching = ReportItem.objects.filter(
            Q(title__icontains=query) | Q(note__icontains=query) | Q(summary__icontains=query)
        ).values("report_id")
        rows = rows.filter(Q(pk__in=matching) | Q(intro__icontains=query))
    return rows.order_by("-week_start", "department__name", "-revision")


def themes_to_add(*, report: Report, limit: int = 50) -> list[Any]:
    """Live themes a curator may add to a draft: the department's first, by score; not already in it."""
    from townsquare.feedback.models import Theme

    present = report.items.exclude(theme_id__isnull=True).values_list("theme_id", flat=True)
    themes = Theme.objects.exclude(status__in=[Theme.Status.MERGED, Theme.Status.ARCHIVED]).exclude(
        pk__in=list(present)
    )
    if report.department_id:
        themes = themes.filter(department=report.department)
    return list(themes.order_by("-score", "-id")[:limit])


def previous_published(*, report: Report) -> Report | None:
    """Last week's (or the latest earlier) published report of the same department, newest revision."""
    return (
        Report.objects.filter(
            department=report.department, status=Report.Status.PUBLISHED, week_start__lt=report.week_start
        )
        .order_by("-week_start", "-revision")
        .first()
    )


@dataclass(frozen=True)
class Change:
    kind: str  # "new", "gone", "up", "down", "same"
    title: str
    people_now: int
    people_before: int
    item: ReportItem | None


def report_changes(*, report: Report, previous: Report | None) -> list[Change]:
    """What changed since the previous report, matching items by theme (or title when the theme is gone)."""
    now_items = list(report.items.order_by("position"))
    before_items = list(previous.items.order_by("position")) if previous else []

    def key(item: ReportItem) -> Any:
        return ("theme", item.theme_id) if item.theme_id is not None else ("title", item.title.lower())

    before = {key(item): item for item in before_items}
    changes = []
    for item in now_items:
        old = before.pop(key(item), None)
        if old is None:
            changes.append(Change("new", item.title, item.people_count, 0, item))
        else:
            kind = (
                "up"
                if item.people_count > old.people_count
                else "down"
                if item.people_count < old.people_count
                else "same"
            )
            changes.append(Change(kind, item.title, item.people_count, old.people_count, item))
    changes += [Change("gone", old.title, 0, old.people_count, None) for old in before.values()]
    return changes


@dataclass(frozen=True)
class Audience:
    """Who a publication reaches: the emails it is sent to and the chat destinations that get the summary."""

    emails: list[str]
    destinations: list[str]


def report_audience(*, report: Report) -> Audience:
    from townsquare.notify.models import Destination, Purpose
    from townsquare.reports.services import report_recipients

    destinations = [d.name for d in Destination.objects.filter(enabled=True) if Purpose.REPORTS in d.purposes]
    return Audience(emails=report_recipients(report=report), destinations=destinations)


def departments_received_by(*, user: User) -> set[int | None]:
    """Department ids (None: company-wide) whose report reaches ``user``: directly or through a team, not opted out."""
    from townsquare.reports.models import Subscription, Unsubscribe

    subs = Subscription.objects.filter(Q(user=user) | Q(team__memberships__user=user))
    opted_out: set[int | None] = set(Unsubscribe.objects.filter(user=user).values_list("department_id", flat=True))
    received: set[int | None] = set(subs.values_list("department_id", flat=True))
    return received - opted_out
