"""The updates app's charts, through core.charts: questions asked and answered per month on an audience."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from townsquare.core import charts

SHOWN = 6  # months on the chart: a half-year gives one month's bars their context


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def questions_chart(
    rows: Sequence[dict[str, Any]], *, today: dt.date, since: dt.date, months: int = SHOWN
) -> charts.Chart | None:
    """Bars of questions asked and answered in each of the last ``months`` months, this one included.

    None when nobody has asked anything yet: the page says so instead of drawing empty axes. A month from
    ``since`` (the audience's creation, or its first question if older) with no question is a real zero (the
    updates went out, nobody asked); a month before it has no data and no bar.
    """
    if not rows:
        return None
    by_month = {row["month"].date() if isinstance(row["month"], dt.datetime) else row["month"]: row for row in rows}
    first = min(min(by_month), since.replace(day=1))
    shown = _months(first, today.replace(day=1))[-months:]
    shown = _months(_back(today.replace(day=1), months - 1), today.replace(day=1)) if len(shown) < months else shown

    def values(key: str) -> list[float | None]:
        return [float(by_month[m][key]) if m in by_month else (0.0 if m >= first else None) for m in shown]

    asked, answered = values("asked"), values("answered")
    total_asked = int(sum(v for v in asked if v is not None))
    total_answered = int(sum(v for v in answered if v is not None))
    share = f"{round(100 * total_answered / total_asked)}%" if total_asked else "none"
    start = max(first, shown[0])
    return charts.bars(
        "Questions asked and answered per month",
        [f"{m:%b %Y}" for m in shown],
        [charts.Series("Asked", asked), charts.Series("Answered", answered)],
        summary=(
            f"{total_asked} question{'s' if total_asked != 1 else ''} asked since {start:%B %Y}, "
            f"{total_answered} answered ({share})."
        ),
        y_label="questions",
    )


def _back(month: dt.date, count: int) -> dt.date:
    for _ in range(count):
        month = (month - dt.timedelta(days=1)).replace(day=1)
    return month
