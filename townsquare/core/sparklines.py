"""Small weekly activity sparklines: inline SVG bars, no chart library and no script.

A page of fifty people each with a 12-week sparkline cannot afford fifty matplotlib figures; these are a
handful of ``<rect>`` elements whose geometry is computed here and drawn by a template
(``core/sparkline.html``). The weeks are ISO weeks (Monday first) in the active time zone, oldest first.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

WEEKS = 12


def week_starts(*, now: dt.datetime | None = None, weeks: int = WEEKS) -> list[dt.date]:
    """The Mondays of the last ``weeks`` weeks, oldest first, this week last."""
    now = timezone.localtime(now or timezone.now())
    this_monday = (now - dt.timedelta(days=now.weekday())).date()
    return [this_monday - dt.timedelta(weeks=weeks - 1 - i) for i in range(weeks)]


def window_start(weeks: list[dt.date]) -> dt.datetime:
    """The first instant of the first week, as an aware datetime to filter rows from."""
    return timezone.make_aware(dt.datetime.combine(weeks[0], dt.time.min))


def as_date(value: dt.date | dt.datetime) -> dt.date:
    """A ``TruncWeek`` value (a datetime on PostgreSQL and SQLite, a date elsewhere) as its date."""
    return value.date() if isinstance(value, dt.datetime) else value


def zero_filled(weeks: list[dt.date], counts: dict[dt.date, int]) -> list[dict[str, Any]]:
    return [{"week": week, "count": counts.get(week, 0)} for week in weeks]


def sparkline(points: list[dict[str, Any]], *, width: int = 240, height: int = 48) -> dict[str, Any]:
    """Bar geometry for an inline SVG: ``points`` are ``{"week", "count"}`` dicts, oldest first."""
    peak = max((p["count"] for p in points), default=0) or 1
    gap = 3 if width >= 120 else 1
    bar = (width - gap * (len(points) - 1)) / max(len(points), 1)
    bars = []
    for i, p in enumerate(points):
        h = max(round(p["count"] / peak * (height - 2)), 1 if p["count"] else 0)
        bars.append({"x": round(i * (bar + gap), 1), "y": height - h, "w": round(bar, 1), "h": h, **p})
    total = sum(p["count"] for p in points)
    return {"width": width, "height": height, "bars": bars, "peak": peak, "total": total}
