"""The updates app's charts, through core.charts: questions asked and answered per month on an audience."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from townsquare.core import charts


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def questions_chart(rows: Sequence[dict[str, Any]], *, today: dt.date) -> charts.Chart | None:
    """Bars of questions asked and answered per month, from the first question's month to this one.

    None when nobody has asked anything yet: the page says so instead of drawing empty axes. A month
    between the first question and now with no question is a real zero (the updates went out, nobody
    asked), so it is drawn as one.
    """
    if not rows:
        return None
    by_month = {row["month"].date() if isinstance(row["month"], dt.datetime) else row["month"]: row for row in rows}
    months = _months(min(by_month), max(max(by_month), today.replace(day=1)))[-12:]
    asked = [float(by_month[m]["asked"]) if m in by_month else 0.0 for m in months]
    answered = [float(by_month[m]["answered"]) if m in by_month else 0.0 for m in months]
    total_asked, total_answered = int(sum(asked)), int(sum(answered))
    share = f"{round(100 * total_answered / total_asked)}%" if total_asked else "none"
    return charts.bars(
        "Questions asked and answered per month",
        [f"{m:%b %Y}" for m in months],
        [charts.Series("Asked", asked), charts.Series("Answered", answered)],
        summary=(
            f"{total_asked} question{'s' if total_asked != 1 else ''} asked over the last {len(months)} "
            f"month{'s' if len(months) != 1 else ''}, {total_answered} answered ({share})."
        ),
        y_label="questions",
    )
