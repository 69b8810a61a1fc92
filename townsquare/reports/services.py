"""The weekly report: drafts built from theme facts, curated, then published once.

Publishing claims the draft with a conditional UPDATE, so a second publish (a
double click, a retried task) sends nothing; email and chat go through the
notification outbox inside the same transaction, so a service that is down
delays delivery without losing it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone

from townsquare.core.errors import TownsquareError
from townsquare.core.privacy import public_name
from townsquare.core.weeks import iso_week_label, last_complete_week
from townsquare.notify.formatting import Trusted, one_line, render_message
from townsquare.notify.models import Notification, Purpose
from townsquare.notify.services import notification_enqueue
from townsquare.reports.models import Report, ReportItem, Subscription, Unsubscribe

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from townsquare.people.models import Team

logger = logging.getLogger(__name__)
MAX_QUOTES = 5
# A weekly report is short by design: the draft takes the top themes by score; curators add others.
DRAFT_THEMES = 15
CHAT_TOP = 5
UNSUBSCRIBE_SALT = "townsquare.reports.unsubscribe"


@dataclass(frozen=True)
class Quote:
    text: str
    author: str
    channel: str
    url: str
    message_id: int | None = None


@dataclass(frozen=True)
class ThemeFacts:
    """What the feedback loop knows about a theme for one week; the report snapshots it."""

    theme_id: int | None
    title: str
    summary: str = ""
    key_phrases: Sequence[str] = ()
    message_count: int = 0
    people_count: int = 0
    people_last_week: int = 0
    customers: Sequence[dict[str, Any]] = ()
    channels: Sequence[str] = ()
    score: float = 0.0
    note: str = ""
    quotes: Sequence[Quote] = ()
    threads: Sequence[dict[str, str]] = ()
    issue_url: str = ""
    addressed_in: str = ""
    is_new: bool = False

    @property
    def trend(self) -> str:
        if self.is_new or self.people_last_week == 0:
            return ReportItem.Trend.NEW
        if self.people_count >= self.people_last_week * 1.25 and self.people_count - self.people_last_week >= 2:
            return ReportItem.Trend.RISING
        if self.people_count <= self.people_last_week * 0.75:
            return ReportItem.Trend.FALLING
        return ReportItem.Trend.STEADY


@dataclass
class PublishOutcome:
    report: Report
    sent_now: bool
    notifications: list[Notification] = field(default_factory=list)


def _item_fields(facts: ThemeFacts) -> dict[str, Any]:
    customers = [
        {"name": c.get("name", ""), "tier": c.get("tier", ""), "annual_revenue": str(c.get("annual_revenue", "0"))}
        for c in facts.customers
    ]
    return {
        "theme_id": facts.theme_id,
        "title": one_line(facts.title)[:300],
        "summary": facts.summary,
        "key_phrases": list(facts.key_phrases),
        "message_count": facts.message_count,
        "people_count": facts.people_count,
        "people_last_week": facts.people_last_week,
        "customer_count": len(customers),
        "customers": customers,
        "revenue_total": sum((Decimal(c["annual_revenue"]) for c in customers), Decimal(0)),
        "channels": sorted(set(facts.channels)),
        "trend": facts.trend,
        "score": facts.score,
        "note": facts.note,
        "quotes": [q.__dict__ for q in facts.quotes[:MAX_QUOTES]],
        "threads": list(facts.threads),
        "issue_url": facts.issue_url,
        "addressed_in": facts.addressed_in,
    }


def _latest(week_start: dt.date, department: Team | None) -> Report | None:
    return Report.objects.filter(week_start=week_start, department=department).order_by("-revision").first()


# What a refresh of the draft may overwrite on an existing item: the week's figures, never the curators'
# order, notes or titles (those follow the theme only until a curator edits them).
_FACT_FIELDS = (
    "summary",
    "key_phrases",
    "message_count",
    "people_count",
    "people_last_week",
    "customer_count",
    "customers",
    "revenue_total",
    "channels",
    "trend",
    "score",
    "quotes",
    "threads",
    "issue_url",
    "addressed_in",
)


@transaction.atomic
def report_build_draft(
    *,
    week_start: dt.date,
    department: Team | None,
    facts: Iterable[ThemeFacts],
    by: User | None = None,
    rebuild: bool = False,
) -> Report:
    """The draft for a week and department: its top themes by score (at most ``DRAFT_THEMES``).

    An existing draft keeps its curation unless ``rebuild``: it is refreshed instead
    (:func:`report_refresh_draft`). A week already published gets no new draft here
    (use :func:`report_revise`). A department's first draft subscribes its own team.
    """
    if week_start.weekday() != 0:
        raise TownsquareError(f"{week_start} is not a Monday", record="week")
    existing = _latest(week_start, department)
    if existing is not None and existing.is_published:
        raise TownsquareError(
            f"the report for {iso_week_label(week_start)} is already published; publish a correction instead",
            record=str(existing),
        )
    if existing is not None and not rebuild:
        return report_refresh_draft(report=existing, facts=facts)
    if existing is None and department is not None and not Report.objects.filter(department=department).exists():
        # The rule for new departments (the migration covered existing ones): their team reads their report.
        Subscription.objects.get_or_create(department=department, team=department)
    report = existing or Report.objects.create(
        week_start=week_start, department=department, created_by=by if getattr(by, "pk", None) else None
    )
    report.items.all().delete()
    if report.dropped_theme_ids:
        report.dropped_theme_ids = []
        report.save(update_fields=["dropped_theme_ids"])
    ranked = sorted(facts, key=lambda f: (-f.score, f.title))[:DRAFT_THEMES]
    ReportItem.objects.bulk_create(
        [ReportItem(report=report, position=i, **_item_fields(f)) for i, f in enumerate(ranked, start=1)]
    )
    return report


def _still_routed(report: Report, theme_ids: Sequence[int]) -> set[int]:
    """Of these themes, the live ones that still belong in the report (routed to its department, if it has one)."""
    from townsquare.feedback.models import Theme

    if not theme_ids:
        return set()
    themes = Theme.objects.filter(pk__in=theme_ids).exclude(status__in=[Theme.Status.MERGED, Theme.Status.ARCHIVED])
    if report.department_id is not None:
        themes = themes.filter(department_id=report.department_id)
    return set(themes.values_list("pk", flat=True))


@transaction.atomic
def report_refresh_draft(*, report: Report, facts: Iterable[ThemeFacts]) -> Report:
    """Bring a draft up to date with the feedback loop without undoing its curation.

    Items of themes still in ``facts`` get the week's new figures (and the theme's title
    and note, until a curator edits them); items of themes no longer in it (routed
    elsewhere, merged, archived) leave unless a curator pinned them; themes new to the
    week are appended (curators' order stays on top) up to ``DRAFT_THEMES`` picked
    items, never one a curator dropped.
    """
    _editable(report)
    by_theme = {f.theme_id: f for f in facts if f.theme_id is not None}
    items = list(report.items.select_for_update(of=("self",)).order_by("position"))
    still_routed = _still_routed(
        report, [i.theme_id for i in items if i.theme_id is not None and i.theme_id not in by_theme]
    )
    keep: list[int] = []
    for item in items:
        fresh = by_theme.pop(item.theme_id, None) if item.theme_id is not None else None
        if fresh is None:
            if item.pinned or item.theme_id is None or item.theme_id in still_routed:
                keep.append(item.pk)
            else:
                item.delete()
            continue
        values = _item_fields(fresh)
        fields = list(_FACT_FIELDS) + ([] if item.edited else ["title", "note"])
        for name in fields:
            setattr(item, name, values[name])
        item.save(update_fields=fields)
        keep.append(item.pk)
    if len(keep) != len(items):
        report_items_reorder(report=report, item_ids=keep)
    dropped = set(report.dropped_theme_ids)
    picked = sum(1 for item in report.items.all() if not item.pinned)
    room = max(DRAFT_THEMES - picked, 0)
    fresh_facts = [f for f in by_theme.values() if f.theme_id not in dropped]
    added = sorted(fresh_facts, key=lambda f: (-f.score, f.title))[:room]
    start = len(keep)
    ReportItem.objects.bulk_create(
        [ReportItem(report=report, position=start + i, **_item_fields(f)) for i, f in enumerate(added, start=1)]
    )
    return report


def _editable(report: Report) -> None:
    if report.is_published:
        raise TownsquareError("a published report cannot change; publish a correction instead", record=str(report))


@transaction.atomic
def report_item_update(*, item: ReportItem, note: str, title: str | None = None) -> ReportItem:
    _editable(item.report)
    item.note = note.strip()
    if title is not None:
        if not title.strip():
            raise TownsquareError("a theme needs a title", record=f"item {item.position}")
        item.title = one_line(title)[:300]
    item.edited = True
    item.save(update_fields=["note", "title", "edited"])
    return item


@dataclass(frozen=True)
class ItemEdit:
    note: str
    title: str | None = None


@transaction.atomic
def report_draft_save(*, report: Report, intro: str | None, items: Mapping[int, ItemEdit]) -> int:
    """Save every edited field of a draft at once (the editor is one form): all or nothing.

    ``items`` maps item ids of this report to their new text; returns how many items changed.
    """
    _editable(report)
    rows = {
        item.pk: item
        for item in report.items.select_for_update(of=("self",)).filter(pk__in=list(items)).order_by("position")
    }
    if set(rows) != set(items):
        raise TownsquareError("an item of this draft is gone; reload the page", record=str(report))
    changed = 0
    for pk, edit in items.items():
        item = rows[pk]
        title = item.title if edit.title is None else one_line(edit.title)[:300]
        if not title.strip():
            raise TownsquareError("a theme needs a title", record=f"item {item.position}")
        note = edit.note.strip()
        if (title, note) != (item.title, item.note):
            item.title, item.note, item.edited = title, note, True
            item.save(update_fields=["title", "note", "edited"])
            changed += 1
    if intro is not None and intro.strip() != report.intro:
        report.intro = intro.strip()
        report.save(update_fields=["intro"])
    return changed


@transaction.atomic
def report_items_reorder(*, report: Report, item_ids: Sequence[int]) -> None:
    """Set the order of a draft's items; ``item_ids`` must list every item exactly once."""
    _editable(report)
    current = set(report.items.values_list("pk", flat=True))
    if set(item_ids) != current or len(item_ids) != len(current):
        raise TownsquareError("the new order must list every item of the report once", record=str(report))
    # Two passes so the (report, position) constraint never sees a duplicate.
    offset = len(item_ids) + 1000
    for position, pk in enumerate(item_ids, start=1):
        ReportItem.objects.filter(pk=pk).update(position=position + offset)
    for position, pk in enumerate(item_ids, start=1):
        ReportItem.objects.filter(pk=pk).update(position=position)


@transaction.atomic
def report_item_remove(*, item: ReportItem) -> None:
    report = item.report
    _editable(report)
    if item.theme_id is not None and item.theme_id not in report.dropped_theme_ids:
        # Remembered, so refreshing the draft as curation goes on never brings it back.
        report.dropped_theme_ids = [*report.dropped_theme_ids, item.theme_id]
        report.save(update_fields=["dropped_theme_ids"])
    item.delete()
    remaining = list(report.items.order_by("position").values_list("pk", flat=True))
    report_items_reorder(report=report, item_ids=remaining)


@transaction.atomic
def report_item_add(*, report: Report, facts: ThemeFacts, pinned: bool = True) -> ReportItem:
    """Append a theme; ``pinned`` (a curator chose it) keeps it there whatever happens to its routing."""
    _editable(report)
    if facts.theme_id is not None and report.items.filter(theme_id=facts.theme_id).exists():
        raise TownsquareError("this theme is already in the report", record=facts.title)
    if facts.theme_id in report.dropped_theme_ids:
        report.dropped_theme_ids = [t for t in report.dropped_theme_ids if t != facts.theme_id]
        report.save(update_fields=["dropped_theme_ids"])
    position = (report.items.aggregate(m=Max("position"))["m"] or 0) + 1
    return ReportItem.objects.create(report=report, position=position, pinned=pinned, **_item_fields(facts))


@transaction.atomic
def report_revise(*, report: Report, by: User | None, correction_note: str) -> Report:
    """Start a correction: a new draft revision with the same items, superseding ``report``."""
    if not report.is_published:
        raise TownsquareError("only a published report can be corrected; edit the draft instead", record=str(report))
    if Report.objects.filter(supersedes=report).exists():
        raise TownsquareError("this revision has already been corrected", record=str(report))
    if not correction_note.strip():
        raise TownsquareError("say what the correction changes", record="correction_note")
    revision = Report.objects.create(
        week_start=report.week_start,
        department=report.department,
        revision=report.revision + 1,
        supersedes=report,
        intro=report.intro,
        correction_note=correction_note.strip(),
        created_by=by if getattr(by, "pk", None) else None,
    )
    items = list(report.items.all())
    for item in items:
        item.pk = None
        item.report = revision
    ReportItem.objects.bulk_create(items)
    return revision


def report_recipients(*, report: Report) -> list[str]:
    """Email addresses subscribed to the report's department, directly or through their team."""
    User = get_user_model()
    department_filter = Q(department=report.department) if report.department_id else Q(department__isnull=True)
    subs = Subscription.objects.filter(department_filter)
    opted_out = Unsubscribe.objects.filter(department_filter).values("user_id")
    users = (
        User.objects.filter(
            Q(pk__in=subs.filter(user__isnull=False).values("user_id"))
            | Q(team_memberships__team__in=subs.filter(team__isnull=False).values("team_id")),
            is_active=True,
        )
        .exclude(pk__in=opted_out)
        .exclude(email="")
    )
    return sorted({email.lower() for email in users.values_list("email", flat=True)})


def absolute(url: str) -> str:
    return f"{settings.BASE_URL}{url}"


def unsubscribe_token(*, report: Report, email: str) -> str:
    return signing.dumps({"d": report.department_id, "e": email}, salt=UNSUBSCRIBE_SALT)


def _message_context(report: Report, items: Sequence[ReportItem]) -> dict[str, Any]:
    return {
        "department": report.department_name,
        "week": iso_week_label(report.week_start),
        "week_start": report.week_start.isoformat(),
        "intro": report.intro,
        "correction_note": report.correction_note,
        "revision": report.revision,
        "link": Trusted(absolute(report.get_absolute_url())),
        "items": [
            {
                "title": item.title,
                "people": item.people_count,
                "customers": item.customer_count,
                "tiers": ", ".join(f"{n} {tier}" for tier, n in sorted(item.tiers.items())),
                "trend": item.get_trend_display(),
                "note": item.note,
                "channels": ", ".join(item.channels),
                "link": Trusted(absolute(item.get_absolute_url())),
                "quotes": [
                    {"text": q.get("text", ""), "author": public_name(q.get("author")), "channel": q.get("channel", "")}
                    for q in item.quotes[:2]
                ],
            }
            for item in items
        ],
    }


def report_email(*, report: Report, items: Sequence[ReportItem], unsubscribe_url: str) -> tuple[str, str]:
    """(text, html) bodies of the report email."""
    context = {**_message_context(report, items), "unsubscribe": Trusted(unsubscribe_url)}
    return render_message("reports/email/report", context, "text"), render_message(
        "reports/email/report", context, "html"
    )


def report_chat(*, report: Report, items: Sequence[ReportItem]) -> str:
    """The chat summary: the top themes and a link to the page, as Markdown."""
    context = _message_context(report, items[:CHAT_TOP])
    return render_message("reports/chat/summary", {**context, "more": max(len(items) - CHAT_TOP, 0)}, "markdown")


@transaction.atomic
def report_publish(*, report: Report, by: User | None) -> PublishOutcome:
    """Publish a draft once: freeze it and record the email and chat notifications."""
    now = timezone.now()
    claimed = Report.objects.filter(pk=report.pk, status=Report.Status.DRAFT).update(
        status=Report.Status.PUBLISHED, published_at=now, published_by=by if getattr(by, "pk", None) else None
    )
    report.refresh_from_db()
    if not claimed:
        logger.info("report %s: already published, nothing sent", report.pk)
        return PublishOutcome(report=report, sent_now=False)
    if not report.items.exists():
        raise TownsquareError("an empty report cannot be published: add a theme or skip this week", record=str(report))
    items = list(report.items.order_by("position"))
    subject = report.subject
    link = absolute(report.get_absolute_url())
    event_key = f"reports.published:{report.pk}"
    created: list[Notification] = []
    for email in report_recipients(report=report):
        unsubscribe = absolute(reverse("reports:unsubscribe", args=[unsubscribe_token(report=report, email=email)]))
        text_body, html_body = report_email(report=report, items=items, unsubscribe_url=unsubscribe)
        created += notification_enqueue(
            event_key=event_key, title=subject, body=text_body, body_html=html_body, emails=[email], link=link
        )
    created += notification_enqueue(
        event_key=event_key,
        title=subject,
        body=report_chat(report=report, items=items),
        body_format=Notification.Format.MARKDOWN,
        purpose=Purpose.REPORTS,
        link=link,
    )
    logger.info("report %s: published, %d notifications recorded", report.pk, len(created))
    return PublishOutcome(report=report, sent_now=True, notifications=created)


def subscription_toggle(*, user: User, department: Team | None, team: Team | None = None, subscribe: bool) -> None:
    """Subscribe or unsubscribe a person (or, with ``team``, a whole team) to a department's report."""
    with transaction.atomic():
        if team is not None:
            if subscribe:
                Subscription.objects.get_or_create(department=department, team=team)
            else:
                Subscription.objects.filter(department=department, team=team).delete()
            return
        if subscribe:
            Subscription.objects.get_or_create(department=department, user=user)
            Unsubscribe.objects.filter(department=department, user=user).delete()
        else:
            Subscription.objects.filter(department=department, user=user).delete()
            Unsubscribe.objects.get_or_create(department=department, user=user)


def unsubscribe_with_token(*, token: str) -> tuple[Team | None, str]:
    """The one-click unsubscribe link in emails. Returns (department, email)."""
    from townsquare.people.models import Team

    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=dt.timedelta(days=365))
    except signing.BadSignature:
        raise TownsquareError("this unsubscribe link is invalid or has expired", record="token") from None
    department = Team.objects.filter(pk=data["d"]).first() if data["d"] else None
    User = get_user_model()
    for user in User.objects.filter(email__iexact=data["e"]):
        subscription_toggle(user=user, department=department, subscribe=False)
    return department, data["e"]


def reports_build_week(*, week_start: dt.date, by: User | None = None, rebuild: bool = False) -> list[Report]:
    """Drafts for a week: the company-wide report and one per department with routed themes.

    Weeks already published are left alone (corrections are explicit); existing
    drafts keep their curation unless ``rebuild``.
    """
    from townsquare.reports.facts import departments_with_themes, theme_facts_for_week

    drafts = []
    for department in [None, *departments_with_themes()]:
        latest = _latest(week_start, department)
        if latest is not None and latest.is_published:
            continue
        facts = theme_facts_for_week(week_start=week_start, department=department)
        drafts.append(
            report_build_draft(week_start=week_start, department=department, facts=facts, by=by, rebuild=rebuild)
        )
    logger.info("week %s: %d report drafts ready", iso_week_label(week_start), len(drafts))
    return drafts


def _theme_facts(*, week_start: dt.date, theme_id: int) -> ThemeFacts:
    """A theme's facts for the week; a theme with no feedback that week is still reported by its curation."""
    from townsquare.reports.facts import theme_facts_for_week

    found = theme_facts_for_week(week_start=week_start, department=None, theme_ids=[theme_id])
    if found:
        return found[0]
    from townsquare.feedback.models import Theme

    theme = Theme.objects.filter(pk=theme_id).first()
    if theme is None or not theme.is_live:
        raise TownsquareError("no such live theme", record=f"theme {theme_id}")
    return ThemeFacts(
        theme_id=theme.pk,
        title=theme.title,
        summary=theme.summary,
        score=theme.score,
        note=theme.why_now,
        issue_url=theme.issue_url,
        key_phrases=list(theme.key_phrases or []),
    )


def report_add_theme(*, report: Report, theme_id: int) -> ReportItem:
    """Add a theme the draft did not pick up (a curator's choice: pinned), with its facts for the report's week."""
    return report_item_add(report=report, facts=_theme_facts(week_start=report.week_start, theme_id=theme_id))


def current_week(*, department: Team | None) -> dt.date:
    """The week whose report is next to publish: last week's until it is published, then this week's."""
    week = last_complete_week()
    latest = _latest(week, department)
    return week + dt.timedelta(weeks=1) if latest is not None and latest.is_published else week


def open_drafts(*, department: Team | None) -> list[Report]:
    """Drafts still to publish for a department (never corrections: they correct what was sent)."""
    rows = Report.objects.filter(
        status=Report.Status.DRAFT, supersedes__isnull=True, week_start__gte=last_complete_week()
    )
    rows = rows.filter(department=department) if department is not None else rows.filter(department__isnull=True)
    return list(rows.order_by("week_start"))


@transaction.atomic
def reports_follow_routing(*, theme_id: int, department: Team | None, previous: Team | None) -> list[Report]:
    """A theme was routed: the department's current draft gets it now, the previous department's drafts lose it.

    Called from feedback's ``theme_route`` through the ``theme_routed`` hook, in its
    transaction. The draft is made if the week has none yet. A theme a curator pinned
    stays where it is, one they dropped is not brought back, and edits stay as they are.
    """
    touched: list[Report] = []
    if previous is not None and previous != department:
        for old in open_drafts(department=previous):
            item = old.items.filter(theme_id=theme_id, pinned=False).first()
            if item is not None:
                item.delete()
                report_items_reorder(
                    report=old, item_ids=list(old.items.order_by("position").values_list("pk", flat=True))
                )
                touched.append(old)
    from townsquare.feedback.models import Theme
    from townsquare.reports.facts import theme_facts_for_week

    theme = Theme.objects.filter(pk=theme_id).first()
    if department is None or theme is None or not theme.is_live:
        return touched

    week = current_week(department=department)
    draft = _latest(week, department)
    if draft is not None and draft.is_published:
        return touched
    if draft is None:
        draft = report_build_draft(
            week_start=week, department=department, facts=theme_facts_for_week(week_start=week, department=department)
        )
    if theme_id in draft.dropped_theme_ids or draft.items.filter(theme_id=theme_id).exists():
        return [*touched, draft]
    report_item_add(report=draft, facts=_theme_facts(week_start=week, theme_id=theme_id), pinned=False)
    return [*touched, draft]
