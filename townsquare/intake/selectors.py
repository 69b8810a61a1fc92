from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from townsquare.core import roles
from townsquare.core.quarters import Quarter, current_quarter, quarter_bounds, quarter_end
from townsquare.intake.models import Budget, LedgerEntry, Request, RequestType
from townsquare.people.models import Team, TeamMembership

# Teams that file requests (DevRel works them; executives sponsor).
NON_STAKEHOLDER_KINDS = (Team.Kind.DEVREL, Team.Kind.EXECUTIVE)

# Selectors also answer anonymous callers (nothing visible), so they take either kind of user.
AnyUser = User | AnonymousUser


@dataclass(frozen=True)
class Balance:
    allocated: int
    adjusted: int
    reserved: int
    spent: int

    @property
    def allowance(self) -> int:
        return self.allocated + self.adjusted

    @property
    def available(self) -> int:
        return self.allowance - self.reserved - self.spent

    @property
    def used_percent(self) -> int:
        if self.allowance <= 0:
            return 100 if (self.reserved + self.spent) else 0
        return round(100 * (self.reserved + self.spent) / self.allowance)


def budget_balance(*, budget: Budget) -> Balance:
    """The balance from the ledger rows (call with the budget row locked to act on it)."""
    totals = LedgerEntry.objects.filter(budget=budget).aggregate(
        adjusted=Coalesce(Sum("allowance"), 0), reserved=Coalesce(Sum("reserved"), 0), spent=Coalesce(Sum("spent"), 0)
    )
    return Balance(allocated=budget.points, **totals)


def budgets_with_balances(*, quarter: Quarter, teams: QuerySet[Team] | None = None) -> list[tuple[Budget, Balance]]:
    rows = (
        Budget.objects.filter(quarter=quarter.key)
        .select_related("team")
        .annotate(
            adjusted=Coalesce(Sum("entries__allowance"), 0),
            reserved=Coalesce(Sum("entries__reserved"), 0),
            spent=Coalesce(Sum("entries__spent"), 0),
        )
        .order_by("team__name")
    )
    if teams is not None:
        rows = rows.filter(team__in=teams)
    return [(b, Balance(allocated=b.points, adjusted=b.adjusted, reserved=b.reserved, spent=b.spent)) for b in rows]


def ledger_for_budget(*, budget: Budget) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(budget=budget).select_related("request", "by").order_by("created_at", "pk")


# ---------------------------------------------------------------- who sees what


def is_devrel_reader(user: AnyUser) -> bool:
    """DevRel, executives and admins see every team's requests."""
    return roles.has_role(user, roles.VALUE_READERS)


def teams_of(user: AnyUser) -> QuerySet[Team]:
    if not user.is_authenticated:
        return Team.objects.none()
    return Team.objects.filter(memberships__user=user)


def filing_teams_for(user: AnyUser) -> QuerySet[Team]:
    """The stakeholder teams this user may file requests for."""
    if not roles.has_role(user, roles.STAKEHOLDERS | {roles.Role.ADMIN}):
        return Team.objects.none()
    return teams_of(user).exclude(kind__in=NON_STAKEHOLDER_KINDS).order_by("name")


def stakeholder_teams() -> QuerySet[Team]:
    return Team.objects.exclude(kind__in=NON_STAKEHOLDER_KINDS).order_by("name")


def is_team_lead(*, user: AnyUser, team: Team) -> bool:
    return bool(user.is_authenticated and TeamMembership.objects.filter(team=team, user=user, is_lead=True).exists())


def team_visible_to(*, user: AnyUser, team: Team) -> bool:
    return is_devrel_reader(user) or teams_of(user).filter(pk=team.pk).exists()


def requests_visible_to(*, user: AnyUser) -> QuerySet[Request]:
    rows = Request.objects.select_related("team", "type", "requester", "budget")
    if is_devrel_reader(user):
        return rows
    return rows.filter(team__in=teams_of(user))


# ---------------------------------------------------------------- lists


def request_types_active() -> QuerySet[RequestType]:
    return RequestType.objects.filter(active=True).select_related("mentoring_alternative")


def team_open_requests(*, team: Team) -> QuerySet[Request]:
    """The team's open requests in the team's own priority order."""
    return (
        Request.objects.filter(team=team, status__in=Request.OPEN_STATUSES)
        .select_related("type", "requester", "budget")
        .order_by("priority", "created_at", "pk")
    )


def team_requests_in_quarter(*, team: Team, quarter: Quarter) -> QuerySet[Request]:
    return (
        Request.objects.filter(team=team, budget__quarter=quarter.key)
        .select_related("type", "requester")
        .order_by("priority", "created_at")
    )


def triage_queue(*, team: Team | None = None, include_decided: bool = False) -> QuerySet[Request]:
    """Open requests across teams, by each team's own rank, then desired date, then age."""
    statuses = Request.OPEN_STATUSES if include_decided else Request.UNDECIDED_STATUSES
    rows = Request.objects.filter(status__in=statuses).select_related(
        "team", "type", "type__mentoring_alternative", "requester", "budget"
    )
    if team is not None:
        rows = rows.filter(team=team)
    return rows.order_by("priority", F("desired_date").asc(nulls_last=True), "created_at", "pk")


def same_type_count(*, request: Request) -> int:
    """How many requests of this type the team filed in the request's quarter (including this one)."""
    return Request.objects.filter(
        budget_id=request.budget_id, type_id=request.original_type_id or request.type_id
    ).count()


# ---------------------------------------------------------------- burn-down


@dataclass(frozen=True)
class BurnPoint:
    day: dt.date
    available: int


def burn_down(*, budget: Budget, today: dt.date | None = None) -> list[BurnPoint]:
    """Available points at the end of each day with a movement, from the quarter's start to today (or its end)."""
    from townsquare.core.quarters import local_date, quarter_start

    quarter = budget.quarter_obj
    start, end = quarter_start(quarter), quarter_end(quarter)
    today = min(today or local_date(timezone.now()), end)
    available = budget.points
    by_day: dict[dt.date, int] = {}
    for entry in ledger_for_budget(budget=budget):
        available += entry.effect
        day = max(local_date(entry.created_at), start)
        by_day[day] = available
    points = [BurnPoint(start, budget.points)]
    for day in sorted(by_day):
        if day > today:
            break
        points.append(BurnPoint(day, by_day[day]))
    if today >= start and points[-1].day < today:
        points.append(BurnPoint(today, points[-1].available))
    return points


# ---------------------------------------------------------------- quarter summary


@dataclass
class TeamSummary:
    team: Team
    budget: Budget | None
    balance: Balance | None
    by_type: dict[int, int] = field(default_factory=dict)
    service: int = 0
    mentoring: int = 0
    requests: int = 0

    @property
    def committed(self) -> int:
        return self.service + self.mentoring


@dataclass
class QuarterSummary:
    quarter: Quarter
    teams: list[TeamSummary]
    types: list[RequestType]
    type_totals: dict[int, int]
    service: int
    mentoring: int
    allowance: int
    reserved: int
    spent: int

    @property
    def committed(self) -> int:
        return self.service + self.mentoring

    @property
    def mentoring_percent(self) -> int:
        return round(100 * self.mentoring / self.committed) if self.committed else 0

    def rows(self) -> list[dict[str, Any]]:
        return [{"summary": t, "cells": [t.by_type.get(rt.pk, 0) for rt in self.types]} for t in self.teams]


def quarter_summary(*, quarter: Quarter) -> QuarterSummary:
    """Points per team and per type, and the service/mentoring split, from the ledger.

    A request counts with the points it currently holds (reserved + spent, net of
    refunds), under its current type: declined and cancelled requests count 0,
    a request converted to mentoring counts as mentoring.
    """
    balances = {b.team_id: (b, bal) for b, bal in budgets_with_balances(quarter=quarter)}
    held = (
        LedgerEntry.objects.filter(budget__quarter=quarter.key, request__isnull=False)
        .values("budget__team_id", "request__type_id", "request__type__mode")
        .annotate(points=Coalesce(Sum(F("reserved") + F("spent")), 0))
    )
    counts = (
        Request.objects.filter(budget__quarter=quarter.key)
        .exclude(status__in=[Request.Status.DECLINED, Request.Status.CANCELLED])
        .values("team_id")
        .annotate(n=Count("id"))
    )
    per_team: dict[int, TeamSummary] = {}
    team_ids = set(balances) | {row["budget__team_id"] for row in held}
    teams = {t.pk: t for t in Team.objects.filter(pk__in=team_ids)}
    for team_id in team_ids:
        budget, balance = balances.get(team_id, (None, None))
        per_team[team_id] = TeamSummary(team=teams[team_id], budget=budget, balance=balance)
    type_totals: dict[int, int] = defaultdict(int)
    for row in held:
        if not row["points"]:
            continue
        summary = per_team[row["budget__team_id"]]
        summary.by_type[row["request__type_id"]] = summary.by_type.get(row["request__type_id"], 0) + row["points"]
        type_totals[row["request__type_id"]] += row["points"]
        if row["request__type__mode"] == RequestType.Mode.MENTORING:
            summary.mentoring += row["points"]
        else:
            summary.service += row["points"]
    for count in counts:
        if count["team_id"] in per_team:
            per_team[count["team_id"]].requests = count["n"]
    types = sorted(
        RequestType.objects.filter(pk__in=[k for k, v in type_totals.items() if v]),
        key=lambda t: (t.is_mentoring, t.position, t.name),
    )  # service types first, then mentoring
    ordered = sorted(per_team.values(), key=lambda s: s.team.name)
    return QuarterSummary(
        quarter=quarter,
        teams=ordered,
        types=types,
        type_totals=dict(type_totals),
        service=sum(s.service for s in ordered),
        mentoring=sum(s.mentoring for s in ordered),
        allowance=sum(bal.allowance for _, bal in balances.values()),
        reserved=sum(bal.reserved for _, bal in balances.values()),
        spent=sum(bal.spent for _, bal in balances.values()),
    )


def quarters_with_budgets() -> list[Quarter]:
    from townsquare.core.quarters import quarter_parse

    keys = Budget.objects.values_list("quarter", flat=True).distinct()
    found = {quarter_parse(k) for k in keys} | {current_quarter()}
    return sorted(found, reverse=True)


def quarter_is_over(quarter: Quarter, *, now: dt.datetime | None = None) -> bool:
    return (now or timezone.now()) >= quarter_bounds(quarter)[1]


def open_filter() -> Q:
    return Q(status__in=Request.OPEN_STATUSES)
