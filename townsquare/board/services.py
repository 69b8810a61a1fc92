"""Writes on the board: tasks, moves, collaborators, kudos and done announcements.

Completing a task (moving it to Done from anywhere: the board, the API, the CLI) happens
in one transaction that records the history line, credits the collaborators, drafts the
announcement and, in automatic mode, writes it to the notification outbox. The outbox
event key names the task and the completion number, so each completion is announced at
most once per destination however often the move is retried.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Max, Min, Q
from django.utils import timezone
from django.utils.text import slugify

from townsquare.board import chat
from townsquare.board.models import (
    Announcement,
    BoardSettings,
    Collaborator,
    Column,
    Kudos,
    Label,
    Task,
    TaskEvent,
    Visibility,
    person_name,
)
from townsquare.core.errors import TownsquareError
from townsquare.intake import services as intake_services
from townsquare.intake.models import Request

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from townsquare.notify.models import Destination
    from townsquare.people.models import Team

logger = logging.getLogger(__name__)

POSITION_GAP = 1024
EDITABLE_FIELDS = ("title", "description", "owner", "due_date", "visibility")


def _user_or_none(by: User | None) -> User | None:
    return by if getattr(by, "pk", None) else None


def _event(
    task: Task,
    kind: str,
    by: User | None,
    *,
    summary: str = "",
    from_column: str = "",
    to_column: str = "",
    detail: dict[str, Any] | None = None,
) -> TaskEvent:
    return TaskEvent.objects.create(
        task=task,
        kind=kind,
        actor=_user_or_none(by),
        summary=summary[:300],
        from_column=from_column,
        to_column=to_column,
        detail=detail or {},
    )


# ---------------------------------------------------------------- settings


def board_settings_get() -> BoardSettings:
    settings_row, _ = BoardSettings.objects.get_or_create(pk=1)
    return settings_row


def board_settings_update(*, announce_mode: str, by: User | None) -> BoardSettings:
    if announce_mode not in BoardSettings.AnnounceMode.values:
        raise TownsquareError(f"unknown announcement mode {announce_mode!r}", record="announce_mode")
    settings_row = board_settings_get()
    settings_row.announce_mode = announce_mode
    settings_row.updated_by = _user_or_none(by)
    settings_row.save()
    return settings_row


# ---------------------------------------------------------------- labels and positions


def labels_ensure(*, names: Iterable[str]) -> list[Label]:
    labels = []
    for raw in names:
        name = " ".join(raw.split())[:50]
        slug = slugify(name)[:60]
        if not slug:
            continue
        label, _ = Label.objects.get_or_create(slug=slug, defaults={"name": name})
        if label not in labels:
            labels.append(label)
    return labels


def parse_labels(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _renumber(column: str) -> None:
    rows = list(Task.objects.filter(column=column).order_by("position", "id").only("pk", "position"))
    for index, row in enumerate(rows, start=1):
        row.position = index * POSITION_GAP
    Task.objects.bulk_update(rows, ["position"], batch_size=500)


def _position_for(*, column: str, before: Task | None, exclude_pk: int | None) -> int:
    """A position in ``column`` just above ``before``; without it, the end (the top for Done)."""
    others = Task.objects.filter(column=column)
    if exclude_pk:
        others = others.exclude(pk=exclude_pk)
    if before is None:
        if column == Column.DONE:  # the most recently finished first
            low = others.aggregate(low=Min("position"))["low"]
            return (low if low is not None else POSITION_GAP) - POSITION_GAP
        high = others.aggregate(high=Max("position"))["high"]
        return (high or 0) + POSITION_GAP
    for _ in range(2):
        before.refresh_from_db(fields=["position", "column"])
        above = (
            others.filter(Q(position__lt=before.position) | Q(position=before.position, pk__lt=before.pk))
            .order_by("-position", "-pk")
            .values_list("position", flat=True)
            .first()
        )
        low = above if above is not None else before.position - 2 * POSITION_GAP
        if before.position - low > 1:
            return (low + before.position) // 2
        _renumber(column)  # no gap left between the neighbours: spread the column out, once
    raise TownsquareError("could not find a place for the card; try again", record=before.pk, permanent=False)


# ---------------------------------------------------------------- tasks


@transaction.atomic
def task_create(
    *,
    title: str,
    by: User | None,
    description: str = "",
    column: str = Column.BACKLOG,
    owner: User | None = None,
    due_date: dt.date | None = None,
    labels: Sequence[str] = (),
    visibility: str = Visibility.PUBLIC,
    origin_request: Request | None = None,
) -> Task:
    title = " ".join(title.split())
    if not title:
        raise TownsquareError("a task needs a title", record="title")
    if column not in Column.values:
        raise TownsquareError(f"unknown column {column!r}", record="column")
    if visibility not in Visibility.values:
        raise TownsquareError(f"unknown visibility {visibility!r}", record="visibility")
    task = Task(
        title=title[:200],
        description=description,
        column=Column.BACKLOG,
        owner=owner,
        due_date=due_date,
        visibility=visibility,
        origin_request=origin_request,
        created_by=_user_or_none(by),
    )
    task.position = _position_for(column=Column.BACKLOG, before=None, exclude_pk=None)
    task.save()
    if labels:
        task.labels.set(labels_ensure(names=labels))
    _event(task, TaskEvent.Kind.CREATED, by, summary=f"created in {Column.BACKLOG.label}", to_column=Column.BACKLOG)
    if column != Column.BACKLOG:
        task = task_move(task=task, column=column, by=by)
    return task


@transaction.atomic
def task_create_for_request(*, request: Request, by: User | None) -> Task:
    """An accepted request becomes a backlog task that remembers where it came from.

    The handler of intake's ``request_accepted`` hook (registered in ``BoardConfig.ready()``), so it runs
    inside ``request_accept``'s transaction. Idempotent: a request
    has at most one task, however often this runs.
    """
    existing = Task.objects.filter(origin_request=request).first()
    if existing is not None:
        return existing
    details = getattr(request, "details", None) or {}
    lines = [f"{str(key).replace('_', ' ').capitalize()}: {value}" for key, value in details.items() if value]
    lines.append(f"Requested by {person_name(request.requester)} ({request.team.name}) as “{request.type.name}”.")
    return task_create(
        title=request.title,
        description="\n".join(lines),
        by=by,
        labels=[request.type.name, request.team.name],
        due_date=getattr(request, "desired_date", None),
        origin_request=request,
    )


WORKING_COLUMNS = (Column.DOING, Column.REVIEW)


@transaction.atomic
def task_follow_request(*, request: Request, from_status: str, by: User | None) -> Task | None:
    """Move a request's card to match the request's new status (the ``request_status_changed`` hook).

    Started: a Backlog card moves to Doing, owned by whoever started it if it had no owner. Done: the
    card moves to Done, a completion like any other. Cancelled: the card stays and its history says so.
    The moves call back into intake, which finds the request already in that state and does nothing.
    """
    task = Task.objects.select_for_update().filter(origin_request_id=request.pk).first()
    if task is None:
        return None
    status = request.status
    if status in (Request.Status.IN_PROGRESS, Request.Status.DONE) and task.column != Column.DONE:
        starter = _user_or_none(by)
        if task.owner_id is None and starter is not None:
            task = task_update(task=task, by=by, owner=starter)
        if status == Request.Status.DONE:
            return task_move(task=task, column=Column.DONE, by=by)
        if task.column == Column.BACKLOG:
            return task_move(task=task, column=Column.DOING, by=by)
    elif status == Request.Status.CANCELLED and task.column != Column.DONE:
        _event(task, TaskEvent.Kind.NOTE, by, summary="the request was cancelled: finish or delete the card")
    return task


def _start_origin_request(task: Task, by: User | None) -> None:
    """Work on the card began: its accepted request becomes in progress (and the requester is told)."""
    if task.origin_request_id is None:
        return
    request = Request.objects.get(pk=task.origin_request_id)
    if request.status not in (Request.Status.ACCEPTED, Request.Status.MENTORING):
        return
    intake_services.request_start(request=request, by=_user_or_none(by))


@transaction.atomic
def task_update(*, task: Task, by: User | None, labels: Sequence[str] | None = None, **changes: Any) -> Task:
    """Edit a task's fields (not its column: use :func:`task_move`); the history records old and new values."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TownsquareError(f"cannot edit {', '.join(sorted(unknown))} here", record=task.pk)
    task = Task.objects.select_for_update().get(pk=task.pk)
    if "title" in changes:
        changes["title"] = " ".join((changes["title"] or "").split())[:200]
        if not changes["title"]:
            raise TownsquareError("a task needs a title", record="title")
    if "visibility" in changes and changes["visibility"] not in Visibility.values:
        raise TownsquareError(f"unknown visibility {changes['visibility']!r}", record="visibility")
    diff: dict[str, list[Any]] = {}
    for name, new in changes.items():
        old = getattr(task, name)
        if old != new:
            diff[name] = [_describe(old), _describe(new)]
            setattr(task, name, new)
    if labels is not None:
        old_labels = sorted(task.labels.values_list("name", flat=True))
        new_objects = labels_ensure(names=labels)
        new_labels = sorted(label.name for label in new_objects)
        if old_labels != new_labels:
            diff["labels"] = [", ".join(old_labels), ", ".join(new_labels)]
            task.labels.set(new_objects)
    if diff:
        task.save()
        _event(
            task,
            TaskEvent.Kind.EDITED,
            by,
            summary="edited " + ", ".join(name.replace("_", " ") for name in diff),
            detail=diff,
        )
    return task


def _describe(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    if getattr(value, "pk", None):
        return person_name(value) if hasattr(value, "get_full_name") else str(value)
    return str(value)


@transaction.atomic
def task_move(*, task: Task, column: str, by: User | None, before: Task | None = None) -> Task:
    """Move a card to ``column``, above ``before`` (or at the end; the top for Done).

    Reaching Done from another column is a completion: numbered, recorded, credited and
    announced (see the module docstring). Leaving Done reopens the task and withdraws an
    announcement still waiting for review.
    """
    if column not in Column.values:
        raise TownsquareError(f"unknown column {column!r}; use one of {', '.join(Column.values)}", record="column")
    # Locks the row on PostgreSQL (SQLite's IMMEDIATE transactions already serialise writers),
    # so two simultaneous moves to Done make one completion.
    task = Task.objects.select_for_update().get(pk=task.pk)
    if before is not None and (before.pk == task.pk or before.column != column):
        before = None
    from_column = task.column
    task.position = _position_for(column=column, before=before, exclude_pk=task.pk)
    task.column = column
    fields = ["column", "position", "updated_at"]
    completing = column == Column.DONE and from_column != Column.DONE
    if completing:
        task.completions += 1
        task.done_at = timezone.now()
        task.done_by = _user_or_none(by)
        fields += ["completions", "done_at", "done_by"]
    task.save(update_fields=fields)
    if from_column != column:
        _event(
            task,
            TaskEvent.Kind.MOVED,
            by,
            from_column=from_column,
            to_column=column,
            summary=f"moved from {Column(from_column).label} to {Column(column).label}",
        )
    else:
        _event(
            task,
            TaskEvent.Kind.MOVED,
            by,
            from_column=from_column,
            to_column=column,
            summary=f"reordered within {Column(column).label}",
        )
    if completing:
        _complete(task, by)
    elif from_column == Column.DONE and column != Column.DONE:
        _reopen(task, by)
    elif column in WORKING_COLUMNS and from_column == Column.BACKLOG:
        _start_origin_request(task, by)
    return task


@transaction.atomic
def task_done(*, task: Task, by: User | None) -> Task:
    """Move a task to Done (the CLI's shortcut); refuses a task that is already done."""
    if Task.objects.select_for_update().filter(pk=task.pk).values_list("column", flat=True).get() == Column.DONE:
        raise TownsquareError("the task is already done", record=f"task {task.pk}")
    return task_move(task=task, column=Column.DONE, by=by)


def _complete(task: Task, by: User | None) -> None:
    reopened = task.completions > 1
    _event(
        task,
        TaskEvent.Kind.COMPLETED,
        by,
        to_column=Column.DONE,
        summary="finished again after being reopened" if reopened else "finished",
        detail={"completion": task.completions},
    )
    _credit_collaborators(task, by)
    announcement = Announcement.objects.create(
        task=task,
        completion=task.completions,
        reopened=reopened,
        created_by=_user_or_none(by),
        headline=_done_message(task, by=by, reopened=reopened).default_headline,
    )
    if board_settings_get().announce_mode == BoardSettings.AnnounceMode.AUTO:
        announcement_send(announcement=announcement, by=by)
    _mark_origin_request_done(task, by)


def _reopen(task: Task, by: User | None) -> None:
    _event(task, TaskEvent.Kind.REOPENED, by, summary="reopened")
    waiting = Announcement.objects.filter(task=task, status=Announcement.Status.DRAFT)
    waiting.update(status=Announcement.Status.DISCARDED, decided_at=timezone.now(), decided_by=_user_or_none(by))


def _mark_origin_request_done(task: Task, by: User | None) -> None:
    """The origin request becomes done and intake tells the requester (once: intake makes it idempotent).

    A request that cannot be done any more (cancelled, say) does not stop the task from
    being finished; the history says why the request was left alone.
    """
    if task.origin_request is None:
        return
    try:
        intake_services.request_mark_done(request=task.origin_request, by=_user_or_none(by))
    except TownsquareError as exc:
        _event(task, TaskEvent.Kind.NOTE, by, summary=f"left the request as it is: {exc.message}")


# ---------------------------------------------------------------- collaborators and kudos


def _credit_collaborators(task: Task, by: User | None) -> list[Kudos]:
    """One credit per collaborator, the first time the task is done with them on it."""
    credited = Kudos.objects.filter(collaborator__task=task).values_list("collaborator_id", flat=True)
    pending = task.collaborators.exclude(pk__in=list(credited))
    return Kudos.objects.bulk_create(
        [
            Kudos(
                kind=Kudos.Kind.CREDIT,
                task=task,
                task_title=task.title,
                collaborator=c,
                user_id=c.user_id,
                name=c.name,
                team_id=c.team_id,
                message=c.contribution,
                given_by=_user_or_none(by),
            )
            for c in pending
        ]
    )


def _team_of(user: User) -> Team | None:
    membership = user.team_memberships.select_related("team").order_by("-is_lead", "team__name").first()
    return membership.team if membership else None


@transaction.atomic
def collaborator_add(
    *,
    task: Task,
    by: User | None,
    contribution: str,
    user: User | None = None,
    name: str = "",
    team: Team | None = None,
) -> Collaborator:
    """Credit someone from another team on a task; on a done task the credit counts at once."""
    name = " ".join(name.split())[:200]
    contribution = " ".join(contribution.split())[:300]
    if user is None and not name:
        raise TownsquareError("name a person or pick a user", record="name")
    if not contribution:
        raise TownsquareError("say what they did", record="contribution")
    if user is not None and Collaborator.objects.filter(task=task, user=user).exists():
        raise TownsquareError(f"{person_name(user)} is already a collaborator", record="user")
    if team is None and user is not None:
        team = _team_of(user)
    collaborator = Collaborator.objects.create(
        task=task,
        user=user,
        name="" if user else name,
        team=team,
        contribution=contribution,
        added_by=_user_or_none(by),
    )
    team_text = f" ({team.name})" if team else ""
    _event(task, TaskEvent.Kind.COLLABORATOR_ADDED, by, summary=f"added {collaborator.display_name}{team_text}")
    if Task.objects.filter(pk=task.pk, column=Column.DONE).exists():  # the caller's copy may be stale
        _credit_collaborators(task, by)
    return collaborator


@transaction.atomic
def collaborator_remove(*, collaborator: Collaborator, by: User | None) -> None:
    """Remove a collaborator added by mistake; their credit for this task goes with them."""
    task = collaborator.task
    _event(task, TaskEvent.Kind.COLLABORATOR_REMOVED, by, summary=f"removed {collaborator.display_name}")
    collaborator.delete()


@transaction.atomic
def kudos_give(
    *,
    by: User | None,
    message: str,
    user: User | None = None,
    name: str = "",
    team: Team | None = None,
    task: Task | None = None,
) -> Kudos:
    """An explicit thank-you, to a user or a named person, optionally for a task."""
    message = " ".join(message.split())[:500]
    name = " ".join(name.split())[:200]
    if not message:
        raise TownsquareError("say what you are thanking them for", record="message")
    if user is None and not name:
        raise TownsquareError("name a person or pick a user", record="name")
    if user is not None and getattr(by, "pk", None) == user.pk:
        raise TownsquareError("kudos are for other people", record="user")
    if team is None and user is not None:
        team = _team_of(user)
    kudos = Kudos.objects.create(
        kind=Kudos.Kind.THANKS,
        task=task,
        task_title=task.title if task else "",
        user=user,
        name="" if user else name,
        team=team,
        message=message,
        given_by=_user_or_none(by),
    )
    if task is not None:
        _event(task, TaskEvent.Kind.THANKED, by, summary=f"thanked {kudos.display_name}")
    return kudos


# ---------------------------------------------------------------- announcements


def _done_message(
    task: Task, *, by: User | None, reopened: bool, headline: str = "", note: str = ""
) -> chat.DoneMessage:
    finisher = task.owner or _user_or_none(by)
    collaborators = task.collaborators.select_related("user", "team")
    return chat.DoneMessage(
        finisher=person_name(finisher) if finisher else "The DevRel team",
        task_title=task.title,
        link=task.absolute_url,
        reopened=reopened,
        headline=headline,
        note=note,
        thanks=tuple(
            chat.Thanks(name=c.display_name, team=c.team.name if c.team else "", contribution=c.contribution)
            for c in collaborators
        ),
    )


def announcement_message(announcement: Announcement) -> chat.DoneMessage:
    return _done_message(
        announcement.task,
        by=announcement.created_by,
        reopened=announcement.reopened,
        headline=announcement.headline,
        note=announcement.note,
    )


def announcement_event_key(announcement: Announcement) -> str:
    return f"board.task_done:{announcement.task_id}:{announcement.completion}"


@transaction.atomic
def announcement_update(*, announcement: Announcement, headline: str, note: str, by: User | None) -> Announcement:
    announcement = Announcement.objects.select_for_update().get(pk=announcement.pk)
    if announcement.status != Announcement.Status.DRAFT:
        raise TownsquareError(
            f"this announcement is {announcement.get_status_display().lower()}: it can no longer be edited",
            record=f"announcement {announcement.pk}",
        )
    headline = chat.one_line(headline)[:300]
    if not headline:
        raise TownsquareError("the announcement needs a headline", record="headline")
    announcement.headline = headline
    announcement.note = note.strip()[:2000]
    announcement.save(update_fields=["headline", "note"])
    return announcement


def _enqueue_announcement(announcement: Announcement, body: str, title: str, link: str) -> int:
    from townsquare.notify.models import Notification
    from townsquare.notify.services import notification_enqueue

    rows = notification_enqueue(
        event_key=announcement_event_key(announcement),
        title=title,
        body=body,
        body_format=Notification.Format.MARKDOWN,
        purpose="announcements",
        link=link,
    )
    return len(rows)


@transaction.atomic
def announcement_send(*, announcement: Announcement, by: User | None) -> Announcement:
    """Write the announcement to the outbox: one row per destination for announcements, once.

    With no destination for announcements yet, nothing is written and the announcement is held: the
    first destination saved for announcements sends it (:func:`announcements_release_held`).
    """
    announcement = Announcement.objects.select_for_update().select_related("task").get(pk=announcement.pk)
    if announcement.status != Announcement.Status.DRAFT:
        raise TownsquareError(
            f"this announcement is already {announcement.get_status_display().lower()}",
            record=f"announcement {announcement.pk}",
        )
    message = announcement_message(announcement)
    title, body = chat.render_done(message, "markdown")
    event_key = announcement_event_key(announcement)
    sent_to = _enqueue_announcement(announcement, body, title, message.link)
    announcement.status = Announcement.Status.QUEUED if sent_to else Announcement.Status.HELD
    announcement.body = body
    announcement.event_key = event_key
    announcement.destinations = sent_to
    announcement.decided_by = _user_or_none(by)
    announcement.decided_at = timezone.now()
    announcement.save()
    summary = (
        f"announced to {sent_to} destination{'s' if sent_to != 1 else ''}"
        if sent_to
        else "held the announcement: no destination receives announcements yet; it goes out when one is added"
    )
    _event(
        announcement.task,
        TaskEvent.Kind.ANNOUNCED,
        by,
        summary=summary,
        detail={"completion": announcement.completion, "event_key": event_key},
    )
    logger.info(
        "task %s: announcement %s %s",
        announcement.task_id,
        announcement.pk,
        f"queued for {sent_to} destinations" if sent_to else "held: no destination for announcements yet",
    )
    return announcement


HELD_ANNOUNCEMENTS_MAX_AGE = dt.timedelta(days=14)


@transaction.atomic
def announcements_release_held(*, destination: Destination) -> int:
    """A destination for announcements was saved: send the completions held for want of one.

    The handler of notify's ``destination_saved`` hook. Only completions of the last
    ``HELD_ANNOUNCEMENTS_MAX_AGE`` go out, so a new channel is not flooded with old news; older
    ones stay held, and the task page says so. Returns how many announcements were sent.
    """
    if not destination.enabled or "announcements" not in destination.purposes:
        return 0
    since = timezone.now() - HELD_ANNOUNCEMENTS_MAX_AGE
    held = (
        Announcement.objects.select_for_update()
        .select_related("task")
        .filter(status=Announcement.Status.HELD, decided_at__gte=since)
        .order_by("decided_at", "pk")
    )
    released = 0
    for announcement in held:
        title, _ = chat.render_done(announcement_message(announcement), "markdown")
        sent_to = _enqueue_announcement(announcement, announcement.body, title, announcement.task.absolute_url)
        if not sent_to:
            continue
        announcement.status = Announcement.Status.QUEUED
        announcement.destinations = sent_to
        announcement.save(update_fields=["status", "destinations"])
        _event(
            announcement.task,
            TaskEvent.Kind.ANNOUNCED,
            None,
            summary=f"sent the held announcement to {destination.name}, the first destination for announcements",
            detail={"completion": announcement.completion, "event_key": announcement.event_key},
        )
        released += 1
    return released


@transaction.atomic
def announcement_discard(*, announcement: Announcement, by: User | None) -> Announcement:
    updated = Announcement.objects.filter(pk=announcement.pk, status=Announcement.Status.DRAFT).update(
        status=Announcement.Status.DISCARDED, decided_by=_user_or_none(by), decided_at=timezone.now()
    )
    if not updated:
        raise TownsquareError(
            "only an announcement waiting for review can be discarded", record=f"announcement {announcement.pk}"
        )
    announcement.refresh_from_db()
    _event(announcement.task, TaskEvent.Kind.ANNOUNCEMENT_DISCARDED, by, summary="discarded the announcement")
    return announcement
