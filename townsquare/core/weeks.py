"""ISO weeks in the company time zone: the weekly report's boundaries."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

_ISO_WEEK = re.compile(r"^(\d{4})-?W(\d{2})$", re.IGNORECASE)


def company_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def week_start_of(day: dt.date) -> dt.date:
    """The Monday of ``day``'s ISO week."""
    return day - dt.timedelta(days=day.weekday())


def week_bounds(week_start: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Aware datetimes [Monday 00:00, next Monday 00:00) in the company time zone."""
    if week_start.weekday() != 0:
        raise ValueError(f"{week_start} is not a Monday")
    tz = company_tz()
    start = dt.datetime.combine(week_start, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(week_start + dt.timedelta(days=7), dt.time.min, tzinfo=tz)
    return start, end


def last_complete_week(now: dt.datetime | None = None) -> dt.date:
    """The Monday of the most recent week that has ended (the week a Monday report covers)."""
    today = (now or timezone.now()).astimezone(company_tz()).date()
    return week_start_of(today) - dt.timedelta(days=7)


def parse_week(text: str) -> dt.date:
    """Accept ``2026-W47``, ``2026W47`` or a date inside the week (``2026-11-18``)."""
    text = text.strip()
    match = _ISO_WEEK.match(text)
    if match:
        return dt.date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    try:
        return week_start_of(dt.date.fromisoformat(text))
    except ValueError:
        raise ValueError(f"not a week: {text!r} (use 2026-W47 or a date such as 2026-11-18)") from None


def iso_week_label(week_start: dt.date) -> str:
    year, week, _ = week_start.isocalendar()
    return f"{year}-W{week:02d}"
