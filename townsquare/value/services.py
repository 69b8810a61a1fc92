"""Goals and the quarterly value report: build the draft, curate it, publish it once, correct it by revision.

Publishing claims the draft with a conditional UPDATE, so a double click or a retried task sends nothing
twice; the emails to the sponsor are written to the notification outbox in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from townsquare.core.errors import TownsquareError
from townsquare.core.quarters import Quarter, current_quarter
from townsquare.notify.formatting import Trusted, render_message
from townsquare.notify.models import Notification
from townsquare.notify.services import notification_enqueue
from townsquare.value import email_charts, sections
from townsquare.value.figures import FIGURES, goal_outcome
from townsquare.value.models import Goal, QuarterReport

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)
MAX_GOALS = 8


def _user(by: User | None) -> User | None:
    return by if getattr(by, "pk", None) else None


def _goal_fields(*, text: str, company_goal: str, figure: str, comparator: str, target: str | Decimal | None) -> dict:
    text = " ".join(text.split())
    if not text:
        raise TownsquareError("a goal needs its text", record="goal")
    if figure and figure not in FIGURES:
        raise TownsquareError(f"unknown figure {figure!r}", record=text)
    value: Decimal | None = None
    if target not in (None, ""):
        try:
            value = Decimal(str(target))
        except InvalidOperation:
            raise TownsquareError(f"the target {target!r} is not a number", record=text) from None
        if not figure or comparator not in Goal.Comparator.values:
            raise TownsquareError("a target needs a figure and “at least” or “at most”", record=text)
    elif comparator and not figure:
        raise TownsquareError("a comparison needs a figure to compare", record=text)
    return {
        "text": text[:300],
        "company_goal": " ".join(company_goal.split())[:300],
        "figure": figure,
        "comparator": comparator if value is not None else "",
        "target": value,
    }


@transaction.atomic
def goal_create(
    *,
    quarter: Quarter,
    text: str,
    company_goal: str = "",
    figure: str = "",
    comparator: str = "",
    target: str | Decimal | None = None,
    by: User | None = None,
) -> Goal:
    values = _goal_fields(text=text, company_goal=company_goal, figure=figure, comparator=comparator, target=target)
    existing = Goal.objects.select_for_update().filter(quarter=quarter.key)
    if existing.count() >= MAX_GOALS:
        raise TownsquareError(f"a quarter has at most {MAX_GOALS} goals", record=quarter.label)
    position = (existing.aggregate(m=Max("position"))["m"] or 0) + 1
    return Goal.objects.create(quarter=quarter.key, position=position, created_by=_user(by), **values)


@transaction.atomic
def goal_update(
    *, goal: Goal, text: str, company_goal: str = "", figure: str = "", comparator: str = "", target: Any = None
) -> Goal:
    values = _goal_fields(text=text, company_goal=company_goal, figure=figure, comparator=comparator, target=target)
    for name, value in values.items():
        setattr(goal, name, value)
    goal.save()
    return goal


def goal_delete(*, goal: Goal) -> None:
    goal.delete()


def _goals_data(quarter: Quarter) -> list[dict[str, Any]]:
    return [
        {
            "text": g.text,
            "company_goal": g.company_goal,
            "figure": g.figure,
            "comparator": g.comparator,
            "target": float(g.target) if g.target is not None else None,
        }
        for g in Goal.objects.filter(quarter=quarter.key).order_by("position", "pk")
    ]


def report_data(quarter: Quarter) -> dict[str, Any]:
    """Every section for the quarter and the one before, and the goals measured against them."""
    now = sections.build_all(quarter)
    previous = quarter.previous()
    return {
        "quarter": quarter.key,
        "sections": now,
        "previous": {"quarter": previous.key, "label": previous.label, "sections": sections.build_all(previous)},
        "goals": [goal_outcome(g, now, quarter.label) for g in _goals_data(quarter)],
    }


def _latest(quarter: Quarter) -> QuarterReport | None:
    return QuarterReport.objects.filter(quarter=quarter.key).order_by("-revision").first()


@transaction.atomic
def value_report_build_draft(*, quarter: Quarter, by: User | None = None) -> QuarterReport:
    """The quarter's draft with fresh figures; an existing draft keeps the lead's narrative, notes and hidden sections.

    A published quarter gets no new draft here: publish a correction (:func:`value_report_revise`).
    """
    if quarter > current_quarter():
        raise TownsquareError(f"{quarter.label} has not started yet", record=quarter.label)
    report = _latest(quarter)
    if report is not None and report.is_published:
        raise TownsquareError(
            f"the report for {quarter.label} is published; publish a correction instead", record=str(report)
        )
    if report is None:
        report = QuarterReport.objects.create(quarter=quarter.key, created_by=_user(by))
    report = QuarterReport.objects.select_for_update().get(pk=report.pk)
    report.data = report_data(quarter)
    report.built_at = timezone.now()
    report.save(update_fields=["data", "built_at"])
    logger.info("value report %s: draft built for %s", report.pk, quarter.key)
    return report


def _editable(report: QuarterReport) -> None:
    if report.is_published:
        raise TownsquareError("a published report cannot change; publish a correction instead", record=str(report))


@transaction.atomic
def value_report_save(
    *, report: QuarterReport, narrative: str, notes: Mapping[str, str], hidden: Iterable[str]
) -> QuarterReport:
    """Save the lead's curation: narrative, a note per section, the sections left out."""
    report = QuarterReport.objects.select_for_update().get(pk=report.pk)
    _editable(report)
    known = set(sections.SECTIONS)
    unknown = (set(notes) | set(hidden)) - known
    if unknown:
        raise TownsquareError(f"unknown section {min(unknown)!r}", record=str(report))
    report.narrative = narrative.strip()
    report.notes = {k: v.strip() for k, v in notes.items() if v.strip()}
    report.hidden = sorted(set(hidden))
    report.save(update_fields=["narrative", "notes", "hidden"])
    return report


@transaction.atomic
def value_report_revise(*, report: QuarterReport, by: User | None, correction_note: str) -> QuarterReport:
    """Start a correction: a new draft revision with the same figures and curation, superseding ``report``."""
    if not report.is_published:
        raise TownsquareError("only a published report can be corrected; edit the draft instead", record=str(report))
    if QuarterReport.objects.filter(supersedes=report).exists():
        raise TownsquareError("this revision has already been corrected", record=str(report))
    if not correction_note.strip():
        raise TownsquareError("say what the correction changes", record="correction_note")
    return QuarterReport.objects.create(
        quarter=report.quarter,
        revision=report.revision + 1,
        supersedes=report,
        narrative=report.narrative,
        notes=dict(report.notes),
        hidden=list(report.hidden),
        data=report.data,
        built_at=report.built_at,
        correction_note=correction_note.strip(),
        created_by=_user(by),
    )


def absolute(url: str) -> str:
    return f"{settings.BASE_URL}{url}"


def _display(value: Any, unit: str) -> str:
    if value is None:
        return "not computable"
    if unit == "percent":
        return f"{value:g}%"
    if unit == "money":
        return f"${value:,.0f}"
    if unit == "hours":
        return f"{value:g} h"
    if unit == "days":
        return f"{value:g} days"
    if unit == "points":
        return f"{value:,} points"
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def value_report_email(*, report: QuarterReport) -> tuple[str, str]:
    """(text, html) bodies of the email to the sponsor: the narrative, the goals and the headline figures."""
    shown = [s for s in sections.ordered() if s.key not in report.hidden]
    data = report.data.get("sections", {})
    charted = email_charts.by_section(report)
    context = {
        "quarter": report.quarter_label,
        "revision": report.revision,
        "correction_note": report.correction_note,
        "narrative": report.narrative,
        "link": Trusted(absolute(report.get_absolute_url())),
        "goals": [
            {
                "text": g["text"],
                "company_goal": g.get("company_goal", ""),
                "value": _display(g["value"], g["unit"]) if g.get("figure") else "",
                "met": {True: "met", False: "not met", None: ""}[g.get("met")],
                "reason": g["reason"] if g.get("value") is None else "",
            }
            for g in report.data.get("goals", [])
        ],
        "sections": [
            {
                "title": data[s.key]["title"],
                "empty_reason": data[s.key]["empty_reason"] if data[s.key]["empty"] else "",
                "note": report.note_for(s.key),
                "figures": [
                    {"label": f["label"], "value": _display(f["value"], f["unit"])}
                    for _, f in sections.figure_items(data[s.key])[:4]
                ],
                "charts": charted.get(s.key, []),
            }
            for s in shown
            if s.key in data
        ],
    }
    return render_message("value/email/report", context, "text"), render_message("value/email/report", context, "html")


@dataclass
class PublishOutcome:
    report: QuarterReport
    sent_now: bool
    notifications: list[Notification] = field(default_factory=list)


@transaction.atomic
def value_report_publish(*, report: QuarterReport, by: User | None, emails: Iterable[str]) -> PublishOutcome:
    """Publish a draft once: freeze it and email the sponsor (and anyone else chosen) through the outbox."""
    if not report.data.get("sections"):
        raise TownsquareError("build the draft before publishing it", record=str(report))
    recipients = sorted({e.strip().lower() for e in emails if e.strip()})
    for address in recipients:
        if "@" not in address:
            raise TownsquareError(f"{address!r} is not an email address", record=str(report))
    claimed = QuarterReport.objects.filter(pk=report.pk, status=QuarterReport.Status.DRAFT).update(
        status=QuarterReport.Status.PUBLISHED,
        published_at=timezone.now(),
        published_by=_user(by),
        recipients=recipients,
    )
    report.refresh_from_db()
    if not claimed:
        logger.info("value report %s: already published, nothing sent", report.pk)
        return PublishOutcome(report=report, sent_now=False)
    text_body, html_body = value_report_email(report=report)
    created = notification_enqueue(
        event_key=f"value.published:{report.pk}",
        title=report.subject,
        body=text_body,
        body_html=html_body,
        emails=recipients,
        link=absolute(report.get_absolute_url()),
        attachments=email_charts.attachments(report) if recipients else (),
    )
    logger.info("value report %s: published, %d notifications recorded", report.pk, len(created))
    return PublishOutcome(report=report, sent_now=True, notifications=created)


def value_report_build_ended_quarter(*, now: Any = None) -> QuarterReport | None:
    """On a quarter's first day, draft the quarter that just ended (unless it is already published)."""
    from townsquare.core.quarters import local_date, quarter_start

    today = local_date(now or timezone.now())
    quarter = current_quarter(now=now)
    if quarter_start(quarter) != today:
        return None
    ended = quarter.previous()
    latest = _latest(ended)
    if latest is not None and latest.is_published:
        return None
    return value_report_build_draft(quarter=ended)
