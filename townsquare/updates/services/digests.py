"""Audience updates: drafts built from the board and feedback, edited by DevRel, sent once, then frozen.

Sending claims the draft with a conditional UPDATE, so a second send (a double click, a
retried task) records nothing; every email and the chat summary go through the notify
outbox in the same transaction. Questions stakeholders ask about an update are tracked
here until DevRel answers them and, if they need work, turns them into a request (through
core's ``request_from_question`` hook: updates may not import intake), a board task or a
feedback note on a theme.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from townsquare.board.services import task_create
from townsquare.core import hooks
from townsquare.core.errors import TownsquareError
from townsquare.core.weeks import company_tz
from townsquare.feedback.models import Theme
from townsquare.feedback.services.curation import theme_annotate
from townsquare.notify.formatting import Trusted, one_line, render_message
from townsquare.notify.models import Destination, Notification
from townsquare.notify.services import notification_enqueue
from townsquare.people.models import Team
from townsquare.updates.models import Audience, Part, Question, Update, UpdateItem
from townsquare.updates.selectors import digests as selectors
from townsquare.updates.selectors import support

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)
CHAT_TOP = 6


def _user(by: User | None) -> User | None:
    return by if getattr(by, "pk", None) else None


# ---------------------------------------------------------------- audiences


def audience_save(
    *,
    audience: Audience | None = None,
    name: str,
    team: Team | None,
    destination: Destination | None,
    cadence: str,
    weekday: int,
    hour: int,
    parts: Sequence[str],
    enabled: bool = True,
    by: User | None = None,
) -> Audience:
    """Create or change an audience; it needs a team (email) or a chat destination, and a valid schedule."""
    name = one_line(name)
    label = name or "new audience"
    if not name:
        raise TownsquareError("an audience needs a name", record="name")
    if team is None and destination is None:
        raise TownsquareError(f"{label}: choose a team to email or a chat destination", record=label)
    if cadence not in Audience.Cadence.values:
        raise TownsquareError(f"{label}: unknown cadence {cadence!r}", record=label)
    if not 0 <= weekday <= 6:
        raise TownsquareError(f"{label}: the weekday must be 0 (Monday) to 6 (Sunday), not {weekday}", record=label)
    if not 0 <= hour <= 23:
        raise TownsquareError(f"{label}: the hour must be 0 to 23, not {hour}", record=label)
    unknown = [p for p in parts if p not in Part.values]
    if unknown:
        raise TownsquareError(f"{label}: unknown recipe part {', '.join(unknown)}", record=label)
    clash = Audience.objects.filter(name__iexact=name)
    if audience is not None and audience.pk:
        clash = clash.exclude(pk=audience.pk)
    existing = clash.first()
    if existing is not None:
        raise TownsquareError(f"an audience called {existing.name} already exists", record=label)
    audience = audience or Audience(created_by=_user(by))
    audience.name, audience.team, audience.destination = name[:100], team, destination
    audience.cadence, audience.weekday, audience.hour = cadence, weekday, hour
    audience.parts = [p for p in Part.values if p in set(parts)]
    audience.enabled = enabled
    audience.save()
    return audience


# ---------------------------------------------------------------- schedule


def due_period_end(*, audience: Audience, now: dt.datetime) -> dt.date | None:
    """The period end of the update the audience is due for at ``now``, or None when nothing is due.

    Due from the audience's weekday and hour (company time zone) until the end of that day, so a worker that was
    down at the hour still builds it later that day; every other week for a biweekly audience (counted from its
    last update, so a skipped week does not shift the rhythm by more than one build).
    """
    local = now.astimezone(company_tz())
    if not audience.enabled or local.weekday() != audience.weekday or local.hour < audience.hour:
        return None
    end = local.date()
    last = audience.updates.order_by("-period_end").values_list("period_end", flat=True).first()
    if last is not None and (end - last).days < audience.period_days:
        return None
    return end


def updates_build_due(*, now: dt.datetime | None = None) -> list[Update]:
    """Build the draft of every audience due at ``now`` (the hourly scheduled task). Safe to run twice."""
    now = now or timezone.now()
    built = []
    for audience in Audience.objects.filter(enabled=True).select_related("team"):
        end = due_period_end(audience=audience, now=now)
        if end is not None:
            built.append(update_build_draft(audience=audience, period_end=end))
    logger.info("updates: %d drafts built", len(built))
    return built


# ---------------------------------------------------------------- drafts


def _collect(audience: Audience, start: dt.date, end: dt.date) -> list[selectors.ItemFacts]:
    facts: list[selectors.ItemFacts] = []
    if audience.has_part(Part.WORK):
        facts += selectors.finished_work(start=start, end=end)
    if audience.has_part(Part.THEMES):
        facts += selectors.themes_for_team(team=audience.team, start=start, end=end)
    if audience.has_part(Part.SUPPORT):
        facts += support.answered_and_rising(start=start, end=end)
    if audience.has_part(Part.EVENTS):
        taken = {f.source_ref for f in facts if f.part == Part.WORK}
        facts += [f for f in selectors.events_and_content(start=start, end=end) if f.source_ref not in taken]
    return facts


def _item(update: Update, position: int, facts: selectors.ItemFacts) -> UpdateItem:
    return UpdateItem(
        update=update,
        position=position,
        part=facts.part,
        kind=facts.kind[:40],
        title=one_line(facts.title)[:300] or "(untitled)",
        body=facts.body,
        url=facts.url[:500],
        people_count=facts.people_count,
        customer_count=facts.customer_count,
        detail=facts.detail,
        source_ref=facts.source_ref,
    )


def _editable(update: Update) -> None:
    if update.is_sent:
        raise TownsquareError("a sent update cannot change: it is archived as it was sent", record=str(update))


@transaction.atomic
def update_build_draft(
    *, audience: Audience, period_end: dt.date, by: User | None = None, rebuild: bool = False
) -> Update:
    """The audience's draft for the period ending ``period_end`` (exclusive), built from its recipe.

    Idempotent: an existing draft is returned as it is, unless ``rebuild``, which refreshes every item DevRel has
    not edited and keeps the note. A sent update is never rebuilt.
    """
    start = period_end - dt.timedelta(days=audience.period_days)
    update = (
        Update.objects.select_for_update()
        .filter(audience=audience, period_end=period_end)
        .order_by("-revision")
        .first()
    )
    if update is not None and (update.is_sent or not rebuild):
        if update.is_sent and rebuild:
            raise TownsquareError("this update was already sent; it stays as it was", record=str(update))
        return update
    if update is not None and update.is_correction:
        # A rebuild would swap the sent snapshot's items for today's facts: a correction is edited by hand.
        raise TownsquareError(
            f"this draft corrects revision {update.revision - 1}; edit it instead of rebuilding it",
            record=str(update),
        )
    if update is None:
        try:
            with transaction.atomic():
                update = Update.objects.create(
                    audience=audience, period_start=start, period_end=period_end, created_by=_user(by)
                )
        except IntegrityError:  # another builder won the race: theirs is the draft
            return Update.objects.get(audience=audience, period_end=period_end)
    kept = list(update.items.filter(edited=True).order_by("position"))
    update.items.filter(edited=False).delete()
    kept_refs = {item.source_ref for item in kept if item.source_ref}
    fresh = [f for f in _collect(audience, start, period_end) if not f.source_ref or f.source_ref not in kept_refs]
    offset = len(kept) + len(fresh) + 1000
    for i, item in enumerate(kept, start=1):  # two passes keep (update, position) unique
        UpdateItem.objects.filter(pk=item.pk).update(position=offset + i)
    for i, item in enumerate(kept, start=1):
        UpdateItem.objects.filter(pk=item.pk).update(position=i)
    UpdateItem.objects.bulk_create([_item(update, len(kept) + i, f) for i, f in enumerate(fresh, start=1)])
    return update


@transaction.atomic
def update_revise(*, update: Update, by: User | None, correction_note: str) -> Update:
    """Start a correction: a new draft revision of the same period with the sent items, superseding ``update``.

    The sent revision is not touched (its page, items and questions stay as they were); the new draft is
    edited and sent like any other. Only the newest sent revision can be corrected, once.
    """
    locked = Update.objects.select_for_update(of=("self",)).select_related("audience").filter(pk=update.pk).first()
    if locked is None:
        raise TownsquareError("this update no longer exists", record=f"update {update.pk}")
    if not locked.is_sent:
        raise TownsquareError("only a sent update can be corrected; edit the draft instead", record=str(locked))
    newer = Update.objects.filter(supersedes=locked).first()
    if newer is not None:
        state = "sent" if newer.is_sent else "a draft"
        raise TownsquareError(
            f"this revision has already been corrected by revision {newer.revision} ({state})", record=str(locked)
        )
    note = correction_note.strip()
    if not note:
        raise TownsquareError("say what the correction changes", record="correction_note")
    if len(note) > 2000:
        raise TownsquareError("a correction note is at most 2,000 characters", record="correction_note")
    try:
        with transaction.atomic():
            revision = Update.objects.create(
                audience=locked.audience,
                period_start=locked.period_start,
                period_end=locked.period_end,
                revision=locked.revision + 1,
                supersedes=locked,
                note=locked.note,
                correction_note=note,
                created_by=_user(by),
            )
    except IntegrityError:  # a concurrent correction won (SQLite has no row lock to make us wait)
        raise TownsquareError("this revision has already been corrected", record=str(locked)) from None
    items = list(locked.items.order_by("position"))
    for item in items:
        item.pk = None
        item.update = revision
    UpdateItem.objects.bulk_create(items)
    logger.info("update %s: correction started as update %s", locked.pk, revision.pk)
    return revision


@dataclass(frozen=True)
class ItemEdit:
    title: str
    body: str


@transaction.atomic
def update_draft_save(
    *, update: Update, note: str | None, items: Mapping[int, ItemEdit], remove: Sequence[int] = ()
) -> int:
    """Save the editor at once (all or nothing): the note, each item's title and text, removed items.

    Returns how many items changed. Edited items survive a rebuild of the draft.
    """
    update = Update.objects.select_for_update().get(pk=update.pk)
    _editable(update)
    rows = {item.pk: item for item in update.items.filter(pk__in=[*items, *remove])}
    missing = (set(items) | set(remove)) - set(rows)
    if missing:
        raise TownsquareError("an item of this draft is gone; reload the page", record=str(update))
    changed = 0
    for pk, edit in items.items():
        if pk in remove:
            continue
        item = rows[pk]
        title = one_line(edit.title)[:300]
        if not title:
            raise TownsquareError(f"item {item.position} needs a title", record=f"item {item.position}")
        if (title, edit.body.strip()) != (item.title, item.body):
            item.title, item.body, item.edited = title, edit.body.strip(), True
            item.save(update_fields=["title", "body", "edited"])
            changed += 1
    if remove:
        update.items.filter(pk__in=list(remove)).delete()
        changed += len(remove)
    if note is not None and note.strip() != update.note:
        update.note = note.strip()
        update.save(update_fields=["note"])
    return changed


# ---------------------------------------------------------------- messages


def absolute(path: str) -> str:
    return f"{settings.BASE_URL}{path}"


def ask_url(update: Update, item: UpdateItem | None = None) -> str:
    url = absolute(reverse("updates:ask", args=[update.pk]))
    return f"{url}?item={item.pk}" if item is not None else url


PART_HEADINGS = selectors.SECTION_HEADINGS


def _message_context(update: Update, items: Sequence[UpdateItem]) -> dict[str, Any]:
    sections = []
    for part, heading in PART_HEADINGS.items():
        rows = [item for item in items if item.part == part]
        if rows:
            sections.append(
                {
                    "heading": heading,
                    "items": [
                        {
                            "kind": item.kind,
                            "title": item.title,
                            "body": item.body,
                            "people": item.people_count,
                            "customers": item.customer_count,
                            # Only links we built (a task's, a theme's page) are trusted; a community thread's
                            # URL may merely start like ours.
                            "url": Trusted(item.url)
                            if item.url.startswith(settings.BASE_URL)
                            and item.source_ref.startswith(("task:", "theme:"))
                            else "",
                            "ask": Trusted(ask_url(update, item)),
                            **support.answer_facts(item),
                        }
                        for item in rows
                    ],
                }
            )
    corrected = update.supersedes
    return {
        "audience": update.audience.name,
        "period": update.period_label,
        "note": update.note,
        "correction": update.correction_number if corrected is not None else 0,
        "correction_note": update.correction_note if corrected is not None else "",
        "corrected_link": Trusted(absolute(corrected.get_absolute_url())) if corrected is not None else "",
        "sections": sections,
        "link": Trusted(absolute(update.get_absolute_url())),
        "ask": Trusted(ask_url(update)),
    }


def update_email(*, update: Update, items: Sequence[UpdateItem]) -> tuple[str, str]:
    """(text, html) bodies of the update email; every community string escaped for its format."""
    context = _message_context(update, items)
    return (
        render_message("updates/email/update", context, "text"),
        render_message("updates/email/update", context, "html"),
    )


def update_chat(*, update: Update, items: Sequence[UpdateItem]) -> str:
    """The chat summary (Markdown): the first items, the note, links to the page and the question form."""
    context = _message_context(update, items)
    shown = 0
    for section in context["sections"]:
        section["items"] = section["items"][: max(CHAT_TOP - shown, 0)]
        shown += len(section["items"])
    context["sections"] = [s for s in context["sections"] if s["items"]]
    context["more"] = max(len(items) - shown, 0)
    return render_message("updates/chat/update", context, "markdown")


def update_recipients(*, update: Update) -> list[str]:
    """Active members of the audience's team with an email address."""
    if update.audience.team_id is None:
        return []
    User = get_user_model()
    users = User.objects.filter(team_memberships__team_id=update.audience.team_id, is_active=True).exclude(email="")
    return sorted({email.lower() for email in users.values_list("email", flat=True)})


@dataclass
class SendOutcome:
    update: Update
    sent_now: bool
    notifications: list[Notification] = field(default_factory=list)


@transaction.atomic
def update_send(*, update: Update, by: User | None) -> SendOutcome:
    """Send a draft once: freeze it and record one email per team member and the chat summary in the outbox."""
    claimed = Update.objects.filter(pk=update.pk, status=Update.Status.DRAFT).update(
        status=Update.Status.SENT, sent_at=timezone.now(), sent_by=_user(by)
    )
    update.refresh_from_db()
    if not claimed:
        logger.info("update %s: already sent, nothing recorded", update.pk)
        return SendOutcome(update=update, sent_now=False)
    items = list(update.items.order_by("position"))
    if not items and not update.note.strip():
        raise TownsquareError("an empty update cannot be sent: add a note or rebuild the draft", record=str(update))
    event_key = f"updates.sent:{update.pk}"
    link = absolute(update.get_absolute_url())
    created: list[Notification] = []
    emails = update_recipients(update=update)
    if emails:
        text, html = update_email(update=update, items=items)
        created += notification_enqueue(
            event_key=event_key, title=update.subject, body=text, body_html=html, emails=emails, link=link
        )
    destination = update.audience.destination
    if destination is not None and destination.enabled:
        created += notification_enqueue(
            event_key=event_key,
            title=update.subject,
            body=update_chat(update=update, items=items),
            body_format=Notification.Format.MARKDOWN,
            destinations=[destination],
            link=link,
        )
    if not created:
        raise TownsquareError(
            f"{update.audience.name} has nobody to send to: its team has no members with email and it has no "
            "enabled chat destination",
            record=str(update),
        )
    logger.info("update %s: sent, %d notifications recorded", update.pk, len(created))
    return SendOutcome(update=update, sent_now=True, notifications=created)


# ---------------------------------------------------------------- the loop back


def _team_of(user: User) -> Team | None:
    return Team.objects.filter(memberships__user=user).exclude(kind=Team.Kind.DEVREL).order_by("name").first()


@transaction.atomic
def question_ask(*, update: Update, by: User, text: str, item: UpdateItem | None = None) -> Question:
    """A reader's question about an update (or one of its items), tracked until DevRel answers it."""
    text = text.strip()
    if not text:
        raise TownsquareError("write your question first", record="text")
    if len(text) > 5000:
        raise TownsquareError("a question is at most 5,000 characters", record="text")
    if not update.is_sent:
        raise TownsquareError("questions open once the update is sent", record=str(update))
    if item is not None and item.update_id != update.pk:
        raise TownsquareError("that item belongs to another update", record=f"item {item.pk}")
    return Question.objects.create(update=update, item=item, asked_by=by, team=_team_of(by), text=text)


@transaction.atomic
def question_answer(*, question: Question, by: User, answer: str) -> Question:
    """DevRel's answer (a later answer replaces it); the asker sees it on the update page."""
    answer = answer.strip()
    if not answer:
        raise TownsquareError("write the answer first", record=f"question {question.pk}")
    question.answer, question.answered_by = answer, by
    question.status = Question.Status.ANSWERED
    question.answered_at = question.answered_at or timezone.now()
    question.save(update_fields=["answer", "answered_by", "status", "answered_at"])
    return question


def _question_title(question: Question) -> str:
    about = f" (about “{question.item.title}”)" if question.item is not None else ""
    return one_line(question.text)[:150] + about[:48]


def _question_details(question: Question) -> str:
    lines = [f"Asked on the {question.update.subject}: {question.text}"]
    if question.item is not None:
        lines.append(f"About: {question.item.title}")
    if question.answer:
        lines.append(f"DevRel answered: {question.answer}")
    lines.append(absolute(question.update.get_absolute_url()) + f"#question-{question.pk}")
    return "\n".join(lines)


def _record_outcome(question: Question, outcome: str, label: str, url: str) -> Question:
    question.outcome, question.outcome_label, question.outcome_url = outcome, label[:300], url[:500]
    question.save(update_fields=["outcome", "outcome_label", "outcome_url"])
    return question


def _not_converted(question: Question) -> None:
    if question.outcome:
        raise TownsquareError(
            f"question {question.pk} is already {question.get_outcome_display().lower()}: {question.outcome_label}",
            record=f"question {question.pk}",
        )


@transaction.atomic
def question_to_request(*, question: Question, by: User) -> Question:
    """File a request for the asker's team from the question (intake decides type, budget and quarter)."""
    question = (
        Question.objects.select_for_update(of=("self",)).select_related("update__audience", "item").get(pk=question.pk)
    )
    _not_converted(question)
    if question.team is None or question.asked_by is None:
        raise TownsquareError(
            f"question {question.pk}: the asker has no stakeholder team to file a request for",
            record=f"question {question.pk}",
        )
    results = hooks.request_from_question.call(
        team=question.team,
        requester=question.asked_by,
        title=_question_title(question),
        details={"question": _question_details(question)},
        by=by,
    )
    if not results:
        raise TownsquareError("requests are not available in this installation", record=f"question {question.pk}")
    request = results[0][1]
    return _record_outcome(question, Question.Outcome.REQUEST, str(request.title), request.get_absolute_url())


@transaction.atomic
def question_to_task(*, question: Question, by: User) -> Question:
    """Put the question on the DevRel board's backlog (DevRel's own work: no budget is charged)."""
    question = (
        Question.objects.select_for_update(of=("self",)).select_related("update__audience", "item").get(pk=question.pk)
    )
    _not_converted(question)
    team_label = [question.team.name] if question.team is not None else []
    task = task_create(
        title=_question_title(question),
        description=_question_details(question),
        by=by,
        labels=["question", *team_label],
    )
    return _record_outcome(question, Question.Outcome.TASK, task.title, task.get_absolute_url())


@transaction.atomic
def question_to_feedback(*, question: Question, by: User, theme_id: int | None = None) -> Question:
    """Add the question to a theme's curator note (the item's theme unless ``theme_id`` names another)."""
    question = (
        Question.objects.select_for_update(of=("self",))
        .select_related("update__audience", "item", "team")
        .get(pk=question.pk)
    )
    _not_converted(question)
    if theme_id is None and question.item is not None and question.item.source_ref.startswith("theme:"):
        theme_id = int(question.item.source_ref.split(":", 1)[1])
    theme = Theme.objects.filter(pk=theme_id).first() if theme_id is not None else None
    if theme is None or not theme.is_live:
        raise TownsquareError(
            f"question {question.pk}: choose a live theme to note it on", record=f"question {question.pk}"
        )
    who = question.team.name if question.team is not None else "a stakeholder"
    line = f"{who} asked on {question.update.period_label}: {one_line(question.text)}"
    theme_annotate(theme=theme, why_now="\n".join(filter(None, [theme.why_now.strip(), line])), by=by)
    return _record_outcome(question, Question.Outcome.FEEDBACK, theme.title, theme.get_absolute_url())
