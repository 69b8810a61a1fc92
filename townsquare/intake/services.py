"""Writes for the Requests loop. Every points movement appends a ledger row.

Locking: anything that reads a balance to decide, or appends to a budget's ledger,
first locks that budget's row (``select_for_update``), then the request's row. Two
members filing at once therefore queue on the budget row and the second one sees
the first one's reservation. On SQLite the settings use IMMEDIATE transactions,
which serialise writers the same way.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.utils import timezone

from townsquare.core import hooks
from townsquare.core.errors import TownsquareError
from townsquare.core.quarters import Quarter, current_quarter, quarter_bounds, quarter_end
from townsquare.intake import selectors
from townsquare.intake.fields import fields_validate
from townsquare.intake.models import Budget, LedgerEntry, Request, RequestEvent, RequestType
from townsquare.people.models import Team

logger = logging.getLogger(__name__)

Status = Request.Status
MENTORING_CANDIDATE_AT = 3  # the team's third service request of one type in a quarter


def _user_or_none(by: User | None) -> User | None:
    return by if getattr(by, "pk", None) else None


def _display(user: User | None) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else "Townsquare"


# ---------------------------------------------------------------- request types


@transaction.atomic
def request_type_save(
    *,
    request_type: RequestType | None = None,
    name: str,
    slug: str,
    description: str,
    points: int,
    mode: str,
    fields: Any,
    active: bool,
    mentoring_alternative: RequestType | None = None,
    position: int = 100,
    by: User | None = None,
) -> RequestType:
    """Create or update a type. Points already charged to filed requests do not change."""
    if isinstance(points, bool) or not isinstance(points, int) or points < 0:
        raise TownsquareError("points must be a whole number, zero or more", record="points")
    if mode not in RequestType.Mode.values:
        raise TownsquareError(f"unknown mode {mode!r}", record="mode")
    clean_fields = fields_validate(fields)
    if mentoring_alternative is not None and mentoring_alternative.mode != RequestType.Mode.MENTORING:
        raise TownsquareError("the mentoring alternative must be a mentoring type", record="mentoring_alternative")
    if mode == RequestType.Mode.MENTORING:
        mentoring_alternative = None
    clash = RequestType.objects.filter(slug=slug)
    if request_type is not None:
        clash = clash.exclude(pk=request_type.pk)
    if clash.exists():
        raise TownsquareError(f"another type already uses the address {slug!r}", record="slug")
    request_type = request_type or RequestType()
    request_type.name, request_type.slug, request_type.description = name.strip(), slug, description.strip()
    request_type.points, request_type.mode, request_type.fields = points, mode, clean_fields
    request_type.active, request_type.mentoring_alternative, request_type.position = (
        active,
        mentoring_alternative,
        position,
    )
    request_type.updated_by = _user_or_none(by)
    request_type.save()
    return request_type


# ---------------------------------------------------------------- budgets


def _check_open_quarter(quarter: Quarter, *, what: str) -> None:
    if timezone.now() >= quarter_bounds(quarter)[1]:
        raise TownsquareError(
            f"{quarter.label} is closed: it ended on {quarter_end(quarter):%d %b %Y}, so {what}", record="quarter"
        )


@transaction.atomic
def budget_create(*, team: Team, quarter: Quarter, points: int, by: User | None = None) -> Budget:
    if isinstance(points, bool) or not isinstance(points, int) or points < 0:
        raise TownsquareError("points must be a whole number, zero or more", record="points")
    if team.kind in selectors.NON_STAKEHOLDER_KINDS:
        raise TownsquareError(f"{team.name} does not file requests, so it has no budget", record=team.name)
    _check_open_quarter(quarter, what="no new budget can be set for it")
    budget, created = Budget.objects.get_or_create(
        team=team, quarter=quarter.key, defaults={"points": points, "created_by": _user_or_none(by)}
    )
    if not created:
        raise TownsquareError(
            f"{team.name} already has a budget for {quarter.label}; adjust it with a reason instead", record=team.name
        )
    return budget


def budget_lock(*, budget_id: int) -> Budget:
    """Lock one budget row until the end of the current transaction."""
    return Budget.objects.select_for_update().select_related("team").get(pk=budget_id)


@transaction.atomic
def budget_adjust(*, budget: Budget, points: int, reason: str, by: User | None) -> LedgerEntry:
    """Add (or with a negative number remove) points from a team's allowance, with a reason."""
    if isinstance(points, bool) or not isinstance(points, int) or points == 0:
        raise TownsquareError("the adjustment must be a whole number of points, not zero", record="points")
    if not reason.strip():
        raise TownsquareError("say why the budget changes", record="reason")
    budget = budget_lock(budget_id=budget.pk)
    if budget.is_closed:
        raise TownsquareError(f"{budget.quarter_obj.label} is closed for {budget.team.name}", record="quarter")
    _check_open_quarter(budget.quarter_obj, what="its budget can no longer change")
    balance = selectors.budget_balance(budget=budget)
    if balance.allowance + points < 0:
        raise TownsquareError(f"the allowance would fall below zero (it is {balance.allowance})", record="points")
    return LedgerEntry.objects.create(
        budget=budget, kind=LedgerEntry.Kind.ADJUST, allowance=points, reason=reason.strip()[:300], by=_user_or_none(by)
    )


@transaction.atomic
def budget_close(*, budget: Budget, by: User | None) -> Budget:
    """Close a team's quarter: nothing more can be filed against it or adjusted (idempotent)."""
    budget = budget_lock(budget_id=budget.pk)
    if budget.closed_at is None:
        budget.closed_at, budget.closed_by = timezone.now(), _user_or_none(by)
        budget.save(update_fields=["closed_at", "closed_by"])
    return budget


# ---------------------------------------------------------------- notices


def _record_and_notify(*, request: Request, from_status: str, by: User | None, note: str = "") -> RequestEvent:
    """Record the status change and queue the requester's notice, in the caller's transaction."""
    from townsquare.notify.services import notification_enqueue

    event = RequestEvent.objects.create(
        request=request, from_status=from_status, to_status=request.status, by=_user_or_none(by), note=note
    )
    link = f"{settings.BASE_URL}{request.get_absolute_url()}"
    context = {"request_obj": request, "event": event, "by_name": _display(_user_or_none(by)), "link": link}
    title = render_to_string("intake/notices/status_title.txt", context).strip()
    body = render_to_string("intake/notices/status_body.txt", context).strip()
    if request.requester.email:
        notification_enqueue(
            event_key=f"intake:request:{request.pk}:event:{event.pk}",
            title=title,
            body=body,
            emails=[request.requester.email],
            purpose="requests",
            link=link,
        )
    return event


# ---------------------------------------------------------------- filing


@transaction.atomic
def request_file(
    *,
    team: Team,
    requester: User,
    request_type: RequestType,
    quarter: Quarter,
    title: str,
    details: dict[str, Any] | None = None,
    desired_date: dt.date | None = None,
    override: bool = False,
) -> Request:
    """File a request and reserve its points; refused over budget unless the team's lead overrides.

    The budget row is locked before the balance is read, so concurrent filings
    against one budget are serialised and can never overspend it.
    """
    title = title.strip()
    if not title:
        raise TownsquareError("give the request a title", record="title")
    if team.kind in selectors.NON_STAKEHOLDER_KINDS:
        raise TownsquareError(f"{team.name} does not file requests", record="team")
    if not selectors.teams_of(requester).filter(pk=team.pk).exists():
        raise TownsquareError(f"you are not a member of {team.name}", record="team")
    request_type = RequestType.objects.get(pk=request_type.pk)  # the stored state, not a stale copy
    if not request_type.active:
        raise TownsquareError(f"“{request_type.name}” is no longer offered; choose another type", record="type")
    _check_open_quarter(quarter, what="requests can no longer be filed against it")
    budget_id = Budget.objects.filter(team=team, quarter=quarter.key).values_list("pk", flat=True).first()
    if budget_id is None:
        raise TownsquareError(
            f"{team.name} has no budget for {quarter.label} yet; ask the DevRel lead to set one", record="quarter"
        )
    budget = budget_lock(budget_id=budget_id)
    if budget.is_closed:
        raise TownsquareError(f"{quarter.label} is closed for {team.name}: the DevRel lead closed it", record="quarter")
    balance = selectors.budget_balance(budget=budget)
    points = request_type.points
    over = points > balance.available
    if over and not override:
        raise TownsquareError(
            f"not enough points: “{request_type.name}” costs {points} and {team.name} has {balance.available} of "
            f"{balance.allowance} left for {quarter.label}",
            record="budget",
        )
    if over and not selectors.is_team_lead(user=requester, team=team):
        raise TownsquareError(f"only a lead of {team.name} can file over budget", record="override")
    prior_same_type = Request.objects.filter(budget=budget, type=request_type).count()
    next_rank = (
        Request.objects.filter(team=team, status__in=Request.OPEN_STATUSES).aggregate(m=Max("priority"))["m"] or 0
    ) + 1
    now = timezone.now()
    request = Request.objects.create(
        team=team,
        budget=budget,
        requester=requester,
        type=request_type,
        title=title[:200],
        details=details or {},
        desired_date=desired_date,
        priority=next_rank,
        points=points,
        mentoring_candidate=(
            request_type.mode == RequestType.Mode.SERVICE and prior_same_type + 1 >= MENTORING_CANDIDATE_AT
        ),
        override_by=requester if over else None,
        override_at=now if over else None,
    )
    reason = "filed"
    if over:
        reason = f"filed over budget ({balance.available} left): override by lead {_display(requester)}"
    LedgerEntry.objects.create(
        budget=budget, request=request, kind=LedgerEntry.Kind.RESERVE, reserved=points, reason=reason, by=requester
    )
    _record_and_notify(request=request, from_status="", by=requester, note=reason if over else "")
    logger.info("request %s filed by user %s for team %s (%s points)", request.pk, requester.pk, team.pk, points)
    return request


# ---------------------------------------------------------------- status changes

ALLOWED = {
    Status.TRIAGED: {Status.FILED},
    Status.ACCEPTED: {Status.FILED, Status.TRIAGED},
    Status.DECLINED: {Status.FILED, Status.TRIAGED},
    Status.MENTORING: {Status.FILED, Status.TRIAGED},
    Status.IN_PROGRESS: {Status.ACCEPTED, Status.MENTORING},
    Status.DONE: {Status.ACCEPTED, Status.MENTORING, Status.IN_PROGRESS},
    Status.CANCELLED: {Status.FILED, Status.TRIAGED, Status.ACCEPTED, Status.MENTORING},
}
VERBS = {
    Status.TRIAGED: "triage",
    Status.ACCEPTED: "accept",
    Status.DECLINED: "decline",
    Status.MENTORING: "redirect to mentoring",
    Status.IN_PROGRESS: "start",
    Status.DONE: "mark done",
    Status.CANCELLED: "cancel",
}


def _lock(request: Request, to: Status) -> tuple[Budget, Request]:
    """Lock budget then request (always this order), and check the move is allowed from the stored status."""
    budget = budget_lock(budget_id=request.budget_id)
    locked = Request.objects.select_for_update().select_related("requester", "type", "team").get(pk=request.pk)
    if locked.status not in ALLOWED[to]:
        raise TownsquareError(
            f"cannot {VERBS[to]} a request that is {locked.get_status_display().lower()}", record=locked.title
        )
    return budget, locked


def _held(request: Request) -> tuple[int, int]:
    """(reserved, spent) this request holds now, from the ledger."""
    reserved = spent = 0
    for entry in LedgerEntry.objects.filter(request=request).only("reserved", "spent"):
        reserved += entry.reserved
        spent += entry.spent
    return reserved, spent


def _sync(target: Request, locked: Request) -> Request:
    """Copy the locked row's fields onto the caller's object, so it sees the new state."""
    for f in Request._meta.concrete_fields:
        setattr(target, f.attname, getattr(locked, f.attname))
    return target


@transaction.atomic
def request_triage(
    *,
    request: Request,
    by: User | None,
    uniquely_devrel: bool | None,
    team_could_with_guidance: bool | None,
    note: str = "",
    quiet: bool = False,
) -> Request:
    """Record the triage answers; a filed request moves to triaged (answers can be revised later).

    ``quiet`` records the status change without a notice, for when a decision follows in
    the same transaction: the requester then gets one notice, for the decision.
    """
    budget_lock(budget_id=request.budget_id)
    locked = Request.objects.select_for_update().select_related("requester", "type", "team").get(pk=request.pk)
    if not locked.is_undecided:
        raise TownsquareError(f"the request is already {locked.get_status_display().lower()}", record=locked.title)
    locked.uniquely_devrel, locked.team_could_with_guidance = uniquely_devrel, team_could_with_guidance
    locked.triage_note = note.strip()
    locked.triaged_by, locked.triaged_at = _user_or_none(by), timezone.now()
    from_status = locked.status
    locked.status = Status.TRIAGED
    locked.save()
    if from_status != Status.TRIAGED:
        if quiet:
            RequestEvent.objects.create(
                request=locked, from_status=from_status, to_status=locked.status, by=_user_or_none(by)
            )
        else:
            _record_and_notify(request=locked, from_status=from_status, by=by)
    return _sync(request, locked)


@transaction.atomic
def request_accept(*, request: Request, by: User | None, note: str = "") -> Request:
    """Accept: the reserved points are spent. The board makes its task through the ``request_accepted`` hook."""
    budget, locked = _lock(request, Status.ACCEPTED)
    reserved, _ = _held(locked)
    LedgerEntry.objects.create(
        budget=budget,
        request=locked,
        kind=LedgerEntry.Kind.SPEND,
        reserved=-reserved,
        spent=reserved,
        reason="accepted",
        by=_user_or_none(by),
    )
    from_status, locked.status = locked.status, Status.ACCEPTED
    locked.save(update_fields=["status", "updated_at"])
    _record_and_notify(request=locked, from_status=from_status, by=by, note=note)
    # In this transaction: a task that cannot be made rolls the acceptance back (board registers the handler).
    hooks.request_accepted.call(request=locked, by=by)
    return _sync(request, locked)


@transaction.atomic
def request_decline(*, request: Request, by: User | None, note: str = "") -> Request:
    """Decline: the reserved points go back to the team."""
    budget, locked = _lock(request, Status.DECLINED)
    reserved, _ = _held(locked)
    if reserved:
        LedgerEntry.objects.create(
            budget=budget,
            request=locked,
            kind=LedgerEntry.Kind.REFUND,
            reserved=-reserved,
            reason="declined",
            by=_user_or_none(by),
        )
    from_status, locked.status = locked.status, Status.DECLINED
    locked.save(update_fields=["status", "updated_at"])
    _record_and_notify(request=locked, from_status=from_status, by=by, note=note)
    return _sync(request, locked)


@transaction.atomic
def request_offer_mentoring(*, request: Request, by: User | None, plan: str = "") -> Request:
    """Convert a service request to its mentoring alternative: re-priced, the difference refunded, then spent."""
    budget, locked = _lock(request, Status.MENTORING)
    old_type = locked.type
    new_type = old_type if old_type.mode == RequestType.Mode.MENTORING else old_type.mentoring_alternative
    if new_type is None:
        raise TownsquareError(
            f"“{old_type.name}” has no mentoring alternative; the DevRel lead can set one", record=locked.title
        )
    reserved, _ = _held(locked)
    new_points = new_type.points
    if reserved != new_points:
        LedgerEntry.objects.create(
            budget=budget,
            request=locked,
            kind=LedgerEntry.Kind.REFUND if reserved > new_points else LedgerEntry.Kind.RESERVE,
            reserved=new_points - reserved,
            by=_user_or_none(by),
            reason=f"converted to mentoring: {old_type.name} {reserved} → {new_type.name} {new_points} points",
        )
    LedgerEntry.objects.create(
        budget=budget,
        request=locked,
        kind=LedgerEntry.Kind.SPEND,
        reserved=-new_points,
        spent=new_points,
        reason="accepted as mentoring",
        by=_user_or_none(by),
    )
    if new_type != old_type:
        locked.original_type = old_type
    locked.type, locked.points = new_type, new_points
    locked.mentoring_plan = plan.strip() or (
        f"DevRel will coach the team through “{locked.title}” instead of doing it: {new_type.description}"
    )
    from_status, locked.status = locked.status, Status.MENTORING
    locked.save()
    _record_and_notify(request=locked, from_status=from_status, by=by, note=locked.mentoring_plan)
    return _sync(request, locked)


@transaction.atomic
def request_start(*, request: Request, by: User | None) -> Request:
    """Accepted (or mentoring) work begins; idempotent when already in progress."""
    if Request.objects.filter(pk=request.pk, status=Status.IN_PROGRESS).exists():
        request.refresh_from_db()
        return request
    _, locked = _lock(request, Status.IN_PROGRESS)
    from_status, locked.status = locked.status, Status.IN_PROGRESS
    locked.save(update_fields=["status", "updated_at"])
    _record_and_notify(request=locked, from_status=from_status, by=by)
    hooks.request_status_changed.call(request=locked, from_status=from_status, by=by)
    return _sync(request, locked)


@transaction.atomic
def request_mark_done(*, request: Request, by: User | None) -> Request:
    """Finish an accepted, mentoring or in-progress request and tell the requester.

    Idempotent: a request that is already done is returned unchanged and nobody is
    notified twice (the board calls this when a task from a request is done).
    """
    budget_lock(budget_id=request.budget_id)
    locked = Request.objects.select_for_update().select_related("requester", "type", "team").get(pk=request.pk)
    if locked.status == Status.DONE:
        return _sync(request, locked)
    if locked.status not in ALLOWED[Status.DONE]:
        raise TownsquareError(
            f"cannot mark done a request that is {locked.get_status_display().lower()}", record=locked.title
        )
    from_status, locked.status = locked.status, Status.DONE
    locked.save(update_fields=["status", "updated_at"])
    _record_and_notify(request=locked, from_status=from_status, by=by)
    hooks.request_status_changed.call(request=locked, from_status=from_status, by=by)
    return _sync(request, locked)


@transaction.atomic
def request_cancel(*, request: Request, by: User, note: str = "") -> Request:
    """The requester (or their team lead) withdraws a request before work starts: all its points come back."""
    budget, locked = _lock(request, Status.CANCELLED)
    if locked.requester_id != by.pk and not selectors.is_team_lead(user=by, team=locked.team):
        raise TownsquareError("only the requester or a team lead can cancel this request", record=locked.title)
    reserved, spent = _held(locked)
    if reserved or spent:
        LedgerEntry.objects.create(
            budget=budget,
            request=locked,
            kind=LedgerEntry.Kind.REFUND,
            reserved=-reserved,
            spent=-spent,
            reason="cancelled",
            by=_user_or_none(by),
        )
    from_status, locked.status = locked.status, Status.CANCELLED
    locked.save(update_fields=["status", "updated_at"])
    _record_and_notify(request=locked, from_status=from_status, by=by, note=note)
    hooks.request_status_changed.call(request=locked, from_status=from_status, by=by)
    return _sync(request, locked)


# ---------------------------------------------------------------- priorities


@transaction.atomic
def requests_reorder(*, team: Team, ordered_ids: Sequence[int], by: User) -> list[Request]:
    """Set the team's own ranking: ``ordered_ids`` first in that order, other open requests after, as they were."""
    if not selectors.teams_of(by).filter(pk=team.pk).exists():
        raise TownsquareError(f"only members of {team.name} can rank its requests", record=team.name)
    open_rows = list(
        Request.objects.select_for_update()
        .filter(team=team, status__in=Request.OPEN_STATUSES)
        .order_by("priority", "created_at", "pk")
    )
    by_id = {r.pk: r for r in open_rows}
    ids = list(dict.fromkeys(int(i) for i in ordered_ids))
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        raise TownsquareError("some requests are no longer open for this team; reload the page", record=team.name)
    ranked = [by_id[i] for i in ids] + [r for r in open_rows if r.pk not in set(ids)]
    changed = []
    for rank, row in enumerate(ranked, start=1):
        if row.priority != rank:
            row.priority = rank
            changed.append(row)
    Request.objects.bulk_update(changed, ["priority"])
    return ranked


def request_move(*, request: Request, direction: str, by: User) -> list[Request]:
    """Move one request a place up or down in its team's ranking (the no-JavaScript path)."""
    rows = list(selectors.team_open_requests(team=request.team).values_list("pk", flat=True))
    if request.pk not in rows:
        raise TownsquareError("this request is no longer open", record=request.title)
    i = rows.index(request.pk)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(rows):
        rows[i], rows[j] = rows[j], rows[i]
    return requests_reorder(team=request.team, ordered_ids=rows, by=by)


QUESTION_REQUEST_TYPE = "qa-session"


def request_file_from_question(
    *, team: Team, requester: User, title: str, details: dict[str, Any], by: User | None = None
) -> Request:
    """The handler of core's ``request_from_question`` hook: a question on an update becomes a filed request.

    Filed as the asker (it is their team's budget) in the current quarter, as a Q&A session when that type is
    offered, else the cheapest active service type; DevRel triages it like any other request (and may change its
    type there). Refusals (no budget, over budget) are the usual TownsquareErrors.
    """
    offered = RequestType.objects.filter(active=True, mode=RequestType.Mode.SERVICE)
    request_type = offered.filter(slug=QUESTION_REQUEST_TYPE).first() or offered.order_by("points", "position").first()
    if request_type is None:
        raise TownsquareError("no request type is offered; ask the DevRel lead to add one", record="type")
    return request_file(
        team=team,
        requester=requester,
        request_type=request_type,
        quarter=current_quarter(),
        title=title,
        details=details,
    )
