"""Reads for audience updates: what goes into a draft, the pages, and the loop-back figures for the value report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.functions import TruncMonth

from townsquare.board.models import Column, Task, Visibility
from townsquare.core import roles
from townsquare.core.weeks import company_tz
from townsquare.feedback.models import Theme
from townsquare.updates.models import Audience, Question, Update, UpdateItem

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    from townsquare.people.models import Team

WORK_LIMIT = 20
THEME_LIMIT = 8
SUPPORT_LIMIT = 5
EVENT_LIMIT = 8
EVENT_HORIZON_DAYS = 45
RISING_TREND = 0.25  # feedback's score_parts["trend"]: people this week vs last, clamped to ±1

# Board labels (lower-case) that say what kind of finished work a task is; the first match names it.
WORK_KINDS: tuple[tuple[str, frozenset[str]], ...] = (
    ("Demo", frozenset({"demo", "demos"})),
    ("Release", frozenset({"release", "releases", "sdk"})),
    ("Talk", frozenset({"talk", "talks", "webinar"})),
    ("Content", frozenset({"content", "docs", "tutorial", "blog", "video", "newsletter"})),
)
EVENT_LABELS = frozenset({"event", "events", "meetup", "conference", "webinar", "talk", "talks"})


def work_kind(labels: Sequence[str]) -> str:
    names = {label.lower() for label in labels}
    for kind, wanted in WORK_KINDS:
        if names & wanted:
            return kind
    return "Work"


def period_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) dates in the company time zone as aware datetimes."""
    tz = company_tz()
    return dt.datetime.combine(start, dt.time.min, tzinfo=tz), dt.datetime.combine(end, dt.time.min, tzinfo=tz)


@dataclass(frozen=True)
class ItemFacts:
    """One candidate item of a draft, before it is snapshotted into an UpdateItem."""

    part: str
    title: str
    kind: str = ""
    body: str = ""
    url: str = ""
    people_count: int = 0
    customer_count: int = 0
    detail: dict[str, Any] = field(default_factory=dict)
    source_ref: str = ""


def _absolute(path: str) -> str:
    return f"{settings.BASE_URL}{path}"


def _label_names(task: Task) -> list[str]:
    return [label.name for label in task.labels.all()]


def finished_work(*, start: dt.date, end: dt.date, limit: int = WORK_LIMIT) -> list[ItemFacts]:
    """Public board tasks finished in the period, newest first (uses the done-feed index)."""
    low, high = period_bounds(start, end)
    tasks = (
        Task.objects.filter(column=Column.DONE, visibility=Visibility.PUBLIC, done_at__gte=low, done_at__lt=high)
        .order_by("-done_at", "-id")
        .prefetch_related("labels")[:limit]
    )
    return [
        ItemFacts(
            part="work",
            kind=work_kind(_label_names(task)),
            title=task.title,
            body=task.description[:500],
            url=_absolute(task.get_absolute_url()),
            detail={"done": task.done_at.date().isoformat() if task.done_at else ""},
            source_ref=f"task:{task.pk}",
        )
        for task in tasks
    ]


def _theme_item(theme: Theme, part: str, kind: str) -> ItemFacts:
    tiers = dict((theme.score_parts or {}).get("customers_by_tier") or {})
    return ItemFacts(
        part=part,
        kind=kind,
        title=theme.title,
        body=theme.why_now or theme.summary[:500],
        url=_absolute(theme.get_absolute_url()),
        people_count=theme.people_count,
        customer_count=theme.customer_count,
        detail={"tiers": tiers, "addressed_in": theme.addressed_release},
        source_ref=f"theme:{theme.pk}",
    )


def _live_themes() -> QuerySet[Theme]:
    return Theme.objects.exclude(status__in=[Theme.Status.MERGED, Theme.Status.ARCHIVED]).only(
        "pk", "title", "why_now", "summary", "people_count", "customer_count", "score_parts", "addressed_release"
    )


def themes_for_team(*, team: Team | None, start: dt.date, end: dt.date, limit: int = THEME_LIMIT) -> list[ItemFacts]:
    """Live themes seen in the period that are routed to ``team`` or affect paying customers, by score."""
    low, high = period_bounds(start, end)
    wanted = Q(customer_count__gt=0) | (Q(department=team) if team is not None else Q(pk__in=[]))
    themes = _live_themes().filter(wanted, last_seen__gte=low, first_seen__lt=high).order_by("-score", "pk")[:limit]
    return [_theme_item(theme, "themes", "Theme") for theme in themes]


def events_and_content(*, start: dt.date, end: dt.date, limit: int = EVENT_LIMIT) -> list[ItemFacts]:
    """Public events on the board due from the period's end on, and content finished in the period."""
    horizon = end + dt.timedelta(days=EVENT_HORIZON_DAYS)
    upcoming = (
        Task.objects.filter(visibility=Visibility.PUBLIC, due_date__gte=end, due_date__lt=horizon)
        .exclude(column=Column.DONE)
        .filter(labels__slug__in=sorted(EVENT_LABELS))
        .distinct()
        .order_by("due_date", "pk")
        .prefetch_related("labels")[:limit]
    )
    items = [
        ItemFacts(
            part="events",
            kind="Event",
            title=task.title,
            body=task.description[:500],
            url=_absolute(task.get_absolute_url()),
            detail={"date": task.due_date.isoformat() if task.due_date else ""},
            source_ref=f"task:{task.pk}",
        )
        for task in upcoming
    ]
    content = [
        ItemFacts(**{**item.__dict__, "part": "events"})
        for item in finished_work(start=start, end=end)
        if item.kind == "Content"
    ]
    return items + content[:limit]


# ---------------------------------------------------------------- pages


def updates_visible_to(user: User | AnonymousUser) -> QuerySet[Update]:
    """Sent updates for every reader; drafts for DevRel only."""
    rows = Update.objects.select_related("audience", "audience__team", "supersedes", "superseded_by")
    if roles.has_role(user, roles.DEVREL):
        return rows
    return rows.filter(status=Update.Status.SENT)


def newest_revisions(*, audience: Audience, user: User | AnonymousUser, limit: int = 52) -> list[Update]:
    """The audience's updates, one per period: the newest revision the user may see, newest period first.

    A revision is hidden when a newer one of its period is visible: for DevRel any newer revision (a draft
    correction included), for other readers only a sent one.
    """
    rows = updates_visible_to(user).filter(audience=audience)
    if roles.has_role(user, roles.DEVREL):
        rows = rows.filter(superseded_by__isnull=True)
    else:
        rows = rows.exclude(superseded_by__status=Update.Status.SENT)
    return list(rows.order_by("-period_end", "-revision")[:limit])


def revision_links(update: Update, user: User | AnonymousUser) -> dict[str, Update | None]:
    """The revisions an update's page links to: the one it corrects, and the one correcting it if visible."""
    newer = update.correction
    if newer is not None and not newer.is_sent and not roles.has_role(user, roles.DEVREL):
        newer = None
    return {"corrects": update.supersedes, "corrected_by": newer}


def update_page(update: Update) -> dict[str, Any]:
    """The update with its items by part and its conversation, in a fixed number of queries."""
    questions = Prefetch(
        "questions",
        queryset=Question.objects.select_related("asked_by", "answered_by", "team").order_by("created_at", "id"),
        to_attr="conversation",
    )
    items = list(UpdateItem.objects.filter(update=update).prefetch_related(questions).order_by("position"))
    general = list(
        Question.objects.filter(update=update, item__isnull=True)
        .select_related("asked_by", "answered_by", "team")
        .order_by("created_at", "id")
    )
    return {"items": items, "sections": _sections(items), "general_questions": general}


SECTION_HEADINGS = {
    "work": "Finished this period",
    "themes": "What the community is telling us",
    "support": "Answered questions and rising themes",
    "events": "Coming up and new content",
}


def _sections(items: Sequence[UpdateItem]) -> list[tuple[str, list[UpdateItem]]]:
    """Items grouped under their part's heading, parts in recipe order, items in position order."""
    grouped: dict[str, list[UpdateItem]] = {part: [] for part in SECTION_HEADINGS}
    for item in items:
        grouped.setdefault(item.part, []).append(item)
    return [(SECTION_HEADINGS.get(part, part), rows) for part, rows in grouped.items() if rows]


def questions_per_month(*, audience: Audience) -> list[dict[str, Any]]:
    """Questions asked and answered on an audience's updates, per month of asking (oldest first)."""
    rows = (
        Question.objects.filter(update__audience=audience)
        .annotate(month=TruncMonth("created_at", tzinfo=company_tz()))
        .values("month")
        .annotate(asked=Count("id"), answered=Count("id", filter=Q(status=Question.Status.ANSWERED)))
        .order_by("month")
    )
    return [{"month": row["month"], "asked": row["asked"], "answered": row["answered"]} for row in rows]


@dataclass(frozen=True)
class TeamQuestions:
    team_id: int | None
    team_name: str
    asked: int
    answered: int


def questions_per_team(*, start: dt.date, end: dt.date) -> list[TeamQuestions]:
    """Questions stakeholders asked on updates in [start, end) (company time zone), and how many are answered.

    For the quarterly value report: one row per team (``team_id`` None for askers without a team), most asked
    first. ``answered`` counts questions asked in the range that have an answer now, whenever it came.
    """
    low, high = period_bounds(start, end)
    rows = (
        Question.objects.filter(created_at__gte=low, created_at__lt=high)
        .values("team_id", "team__name")
        .annotate(asked=Count("id"), answered=Count("id", filter=Q(status=Question.Status.ANSWERED)))
        .order_by("-asked", "team__name")
    )
    return [
        TeamQuestions(
            team_id=row["team_id"],
            team_name=row["team__name"] or "No team",
            asked=row["asked"],
            answered=row["answered"],
        )
        for row in rows
    ]


def open_questions() -> QuerySet[Question]:
    return (
        Question.objects.filter(status=Question.Status.OPEN)
        .select_related("update__audience", "asked_by", "team", "item")
        .order_by("created_at")
    )
