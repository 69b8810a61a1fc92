"""Reads for the board: columns, tasks a user may see, history, kudos ledgers and the done feed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from townsquare.board.models import Announcement, Collaborator, Column, Kudos, Label, Task, Visibility
from townsquare.core import roles
from townsquare.people.models import Team, TeamMembership

# A column shows this many cards; the rest are one click away (a board of 5,000 cards helps nobody).
COLUMN_LIMIT = 50


def can_edit(user: User | AnonymousUser) -> bool:
    return roles.has_role(user, roles.DEVREL)


def tasks_visible_to(user: User | AnonymousUser) -> QuerySet[Task]:
    """Public tasks for every role; internal ones only for DevRel."""
    tasks = Task.objects.all()
    if not can_edit(user):
        tasks = tasks.filter(visibility=Visibility.PUBLIC)
    return tasks


def with_card_data(tasks: QuerySet[Task]) -> QuerySet[Task]:
    return tasks.select_related("owner").prefetch_related(
        "labels", Prefetch("collaborators", Collaborator.objects.select_related("user", "team"))
    )


_USER_NAME_FIELDS = ("username", "first_name", "last_name")


def with_card_fields(tasks: QuerySet[Task]) -> QuerySet[Task]:
    """Just what a board card shows: no descriptions, no user rows beyond names (it is a hot path)."""
    collaborators = Collaborator.objects.select_related("user").only(
        "task_id",
        "name",
        "contribution",
        "user_id",
        "team_id",
        *(f"user__{name}" for name in _USER_NAME_FIELDS),
    )
    return (
        tasks.select_related("owner")
        .only(
            "title",
            "column",
            "position",
            "owner_id",
            "due_date",
            "visibility",
            "done_at",
            *(f"owner__{name}" for name in _USER_NAME_FIELDS),
        )
        # Teams are few: prefetched once each rather than joined into every collaborator row.
        .prefetch_related("labels", Prefetch("collaborators", collaborators), "collaborators__team")
    )


def task_get_for_user(user: User | AnonymousUser, pk: int) -> Task:
    task = with_card_data(tasks_visible_to(user)).select_related("origin_request__team").filter(pk=pk).first()
    if task is None:
        raise Http404("no such task")
    return task


@dataclass
class BoardFilters:
    owner: User | None = None
    label: Label | None = None
    team: Team | None = None

    @property
    def active(self) -> bool:
        return bool(self.owner or self.label or self.team)

    def query(self) -> dict[str, str]:
        params = {}
        if self.owner:
            params["owner"] = str(self.owner.pk)
        if self.label:
            params["label"] = self.label.slug
        if self.team:
            params["team"] = self.team.slug
        return params


def board_filters_from(params: Any) -> BoardFilters:
    """Filters from a query string; unknown values are ignored rather than failing the page."""
    filters = BoardFilters()
    owner = params.get("owner", "")
    if owner.isdigit():
        filters.owner = get_user_model().objects.filter(pk=int(owner)).first()
    if params.get("label"):
        filters.label = Label.objects.filter(slug=params["label"]).first()
    if params.get("team"):
        filters.team = Team.objects.filter(slug=params["team"]).first()
    return filters


def tasks_filtered(user: User | AnonymousUser, filters: BoardFilters) -> QuerySet[Task]:
    tasks = tasks_visible_to(user)
    if filters.owner:
        tasks = tasks.filter(owner=filters.owner)
    if filters.label:
        tasks = tasks.filter(labels=filters.label)
    if filters.team:
        # A team's tasks: someone of the team helped, or a member of the team owns it.
        tasks = tasks.filter(
            Q(pk__in=Collaborator.objects.filter(team=filters.team).values("task_id"))
            | Q(owner__in=TeamMembership.objects.filter(team=filters.team).values("user_id"))
        )
    return tasks


@dataclass
class BoardColumn:
    key: str
    label: str
    tasks: list[Task] = field(default_factory=list)
    total: int = 0

    @property
    def hidden(self) -> int:
        return self.total - len(self.tasks)


def board_get(*, user: User | AnonymousUser, filters: BoardFilters, limit: int = COLUMN_LIMIT) -> list[BoardColumn]:
    """The four columns with their first ``limit`` cards each, in a constant number of queries.

    Per column, the card ids come from the (column, position, id) index; then one query
    loads those cards and two more their labels and collaborators: 1 + 4 + 3 queries
    whatever the size of the board.
    """
    tasks = tasks_filtered(user, filters)
    totals = dict(tasks.order_by().values_list("column").annotate(n=Count("id")))
    ids: list[int] = []
    for key in Column.values:
        if totals.get(key):
            ids += tasks.filter(column=key).order_by("position", "id").values_list("id", flat=True)[:limit]
    columns = {key: BoardColumn(key=key, label=label, total=totals.get(key, 0)) for key, label in Column.choices}
    if ids:
        for task in with_card_fields(Task.objects.filter(pk__in=ids)).order_by("position", "id"):
            # Plain lists: the template reads them without cloning a queryset per card.
            task.card_labels = list(task.labels.all())  # type: ignore[attr-defined]
            task.card_helpers = list(task.collaborators.all())  # type: ignore[attr-defined]
            columns[task.column].tasks.append(task)
    return list(columns.values())


def board_filter_options(user: User | AnonymousUser) -> dict[str, Any]:
    owners = (
        get_user_model()
        .objects.filter(pk__in=tasks_visible_to(user).values("owner_id"))
        .order_by("first_name", "last_name", "username")
    )
    return {
        "owners": list(owners),
        "labels": list(Label.objects.filter(pk__in=Task.labels.through.objects.values("label_id"))),
        "teams": list(Team.objects.all()),
    }


def task_history(task: Task) -> QuerySet[Any]:
    return task.events.select_related("actor")


def task_kudos(task: Task) -> QuerySet[Kudos]:
    return Kudos.objects.filter(task=task).select_related("user", "team", "given_by")


def task_announcements(task: Task) -> QuerySet[Announcement]:
    return task.announcements.select_related("decided_by")


def announcements_waiting() -> QuerySet[Announcement]:
    return Announcement.objects.filter(status=Announcement.Status.DRAFT).select_related("task")


def done_feed(*, limit: int | None = None) -> QuerySet[Task]:
    """Finished public tasks, the most recently finished first (the same list for every role)."""
    tasks = with_card_data(
        Task.objects.filter(column=Column.DONE, visibility=Visibility.PUBLIC).order_by("-done_at", "-id")
    )
    return tasks[:limit] if limit else tasks


@dataclass
class Period:
    """A kudos ledger period: a date range, inclusive, either end optional."""

    start: dt.date | None = None
    end: dt.date | None = None
    label: str = ""

    def apply(self, kudos: QuerySet[Kudos]) -> QuerySet[Kudos]:
        if self.start:
            kudos = kudos.filter(created_at__date__gte=self.start)
        if self.end:
            kudos = kudos.filter(created_at__date__lte=self.end)
        return kudos


def kudos_ledger(*, period: Period, user: User | None = None, team: Team | None = None) -> QuerySet[Kudos]:
    kudos = Kudos.objects.select_related("user", "team", "given_by", "task")
    if user is not None:
        kudos = kudos.filter(user=user)
    if team is not None:
        kudos = kudos.filter(team=team)
    return period.apply(kudos)


def kudos_summary(*, period: Period) -> dict[str, list[dict[str, Any]]]:
    """Kudos counts per person and per team in the period, most first."""
    kudos = period.apply(Kudos.objects.all())
    people_rows = (
        kudos.filter(user__isnull=False)
        .values("user_id", "user__first_name", "user__last_name", "user__username")
        .annotate(
            credits=Count("id", filter=Q(kind=Kudos.Kind.CREDIT)),
            thanks=Count("id", filter=Q(kind=Kudos.Kind.THANKS)),
            total=Count("id"),
        )
        .order_by("-total", "user__first_name", "user__username")
    )
    team_rows = (
        kudos.filter(team__isnull=False)
        .values("team__slug", "team__name")
        .annotate(
            credits=Count("id", filter=Q(kind=Kudos.Kind.CREDIT)),
            thanks=Count("id", filter=Q(kind=Kudos.Kind.THANKS)),
            total=Count("id"),
            people=Count("user", distinct=True),
        )
        .order_by("-total", "team__name")
    )
    # Plain dicts rather than the rows' typed dicts: a person's row gains a display name.
    people: list[dict[str, Any]] = [
        {**row, "name": f"{row['user__first_name']} {row['user__last_name']}".strip() or row["user__username"]}
        for row in people_rows
    ]
    teams: list[dict[str, Any]] = [dict(row) for row in team_rows]
    return {"people": people, "teams": teams}
