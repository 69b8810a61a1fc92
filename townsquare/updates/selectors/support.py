"""The support audience's part: community questions answered in the period, and rising themes."""

from __future__ import annotations

import datetime as dt

from townsquare.feedback.answered import AnsweredQuestion, answered_questions, safe_url
from townsquare.updates.models import UpdateItem
from townsquare.updates.selectors.digests import (
    RISING_TREND,
    SUPPORT_LIMIT,
    ItemFacts,
    _live_themes,
    _theme_item,
    period_bounds,
)


def _answered_item(question: AnsweredQuestion) -> ItemFacts:
    return ItemFacts(
        part="support",
        kind=question.how_label,
        title=question.title,
        body=question.excerpt,
        url=question.url,
        people_count=question.people,
        detail={
            "how": question.how,
            "answered_by": question.answered_by,
            "answered_at": question.answered_at.date().isoformat(),
            "answer_url": question.answer_url,
            "similar": question.similar,
            "source": question.source,
        },
        source_ref=f"message:{question.message_id}",
    )


def answered_and_rising(*, start: dt.date, end: dt.date, limit: int = SUPPORT_LIMIT) -> list[ItemFacts]:
    """Community question threads answered in [start, end) worth reusing, then the themes rising this week."""
    low, high = period_bounds(start, end)
    items = [_answered_item(q) for q in answered_questions(low=low, high=high, limit=limit)]
    # Rising: among the period's strongest themes (one indexed query), those whose people grew week on week.
    recent = _live_themes().filter(last_seen__gte=low, first_seen__lt=high).order_by("-score", "pk")[: limit * 10]
    rising = [t for t in recent if float((t.score_parts or {}).get("trend", 0) or 0) >= RISING_TREND]
    return items + [_theme_item(t, "support", "Rising") for t in rising][:limit]


def answer_facts(item: UpdateItem) -> dict[str, object]:
    """What an answered-question item says beyond its title, for the email and chat templates.

    ``thread`` is the community's own link (http(s) only, checked again here: the snapshot may be older
    than the check), never Trusted: each format's escaper handles it like any community text.
    """
    detail = item.detail or {}
    if item.part != "support" or not detail.get("how"):
        return {}
    return {
        "thread": safe_url(item.url),
        "answered_by": str(detail.get("answered_by") or ""),
        "answered_on": str(detail.get("answered_at") or ""),
        "similar": int(detail.get("similar") or 0),
        "source": str(detail.get("source") or ""),
    }
