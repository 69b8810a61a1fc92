"""The weekly report: drafts built from theme facts, curated, then published once.

Publishing claims the draft with a conditional UPDATE, so a second publish (a
double click, a retried task) sends nothing; email and chat go through the
notification outbox inside the same transaction, so a service that is down
delays delivery without losing it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
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
from townsquare.core.weeks import iso_week_label
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

    An existing draft is kept as the curators left it unless ``rebuild``; a week
    already published gets no new draft here (use :func:`report_revise`).
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
        return existing
    report = existing or Report.objects.create(
        week_start=week_start, department=department, created_by=by if getattr(by, "pk", None) else None
    )
    report.items.all().delete()
    ranked = sorted(facts, key=lambda f: (-f.score, f.title))[:DRAFT_THEMES]
    ReportItem.objects.bulk_create(
        [ReportItem(report=report, position=i, **_item_fields(f)) for i, f in enumerate(ranked, start=1)]
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
    item.save(update_fields=["note", "title"])
    return item


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
    item.delete()
    remaining = list(report.items.order_by("position").values_list("pk", flat=True))
    report_items_reorder(report=report, item_ids=remaining)


@transaction.atomic
def report_item_add(*, report: Report, facts: ThemeFacts) -> ReportItem:
    _editable(report)
    if facts.theme_id is not None and report.items.filter(theme_id=facts.theme_id).exists():
        raise TownsquareError("this theme is already in the report", record=facts.title)
    position = (report.items.aggregate(m=Max("position"))["m"] or 0) + 1
    return ReportItem.objects.create(report=report, position=position, **_item_fields(facts))


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
                    {"text": q.get("text", ""), "author": q.get("author", ""), "channel": q.get("channel", "")}
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


def report_add_theme(*, report: Report, theme_id: int) -> ReportItem:
    """Add a theme the draft did not pick up, with its facts for the report's week."""
    from townsquare.reports.facts import theme_facts_for_week

    found = theme_facts_for_week(week_start=report.week_start, department=None, theme_ids=[theme_id])
    if not found:
        from townsquare.feedback.models import Theme

        theme = Theme.objects.filter(pk=theme_id).first()
        if theme is None or not theme.is_live:
            raise TownsquareError("no such live theme", record=f"theme {theme_id}")
        found = [
            ThemeFacts(
                theme_id=theme.pk,
                title=theme.title,
                summary=theme.summary,
                score=theme.score,
                note=theme.why_now,
                issue_url=theme.issue_url,
                key_phrases=list(theme.key_phrases or []),
            )
        ]
    return report_item_add(report=report, facts=found[0])
