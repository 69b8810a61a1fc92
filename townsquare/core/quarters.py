"""Fiscal quarters: pure date arithmetic, driven by ``FISCAL_YEAR_START_MONTH``.

A fiscal year is named after the calendar year in which it *ends* (the usual
convention): with a February start, Feb 2025 – Jan 2026 is FY2026. With a
January start the fiscal year is the calendar year. Quarters are stored as a
sortable key such as ``"2026Q3"`` and shown as ``"FY2026 Q3"``.

Every function takes ``start_month`` explicitly or reads the setting when
called (never at import time). Dates are local dates in ``settings.TIME_ZONE``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

_KEY_RE = re.compile(r"^\s*(?:FY)?\s*(\d{4})\s*-?\s*Q([1-4])\s*$", re.IGNORECASE)


def _start_month(start_month: int | None) -> int:
    if start_month is None:
        from django.conf import settings

        start_month = int(settings.FISCAL_YEAR_START_MONTH)
    if not 1 <= start_month <= 12:
        raise ValueError(f"fiscal year start month must be 1 to 12, got {start_month}")
    return start_month


@dataclass(frozen=True, order=True)
class Quarter:
    fiscal_year: int
    number: int

    def __post_init__(self) -> None:
        if not 1 <= self.number <= 4:
            raise ValueError(f"quarter number must be 1 to 4, got {self.number}")

    def __str__(self) -> str:
        return self.label

    @property
    def key(self) -> str:
        """Storage form, sortable as text: ``2026Q3``."""
        return f"{self.fiscal_year}Q{self.number}"

    @property
    def label(self) -> str:
        return f"FY{self.fiscal_year} Q{self.number}"

    def next(self) -> Quarter:
        return Quarter(self.fiscal_year + 1, 1) if self.number == 4 else Quarter(self.fiscal_year, self.number + 1)

    def previous(self) -> Quarter:
        return Quarter(self.fiscal_year - 1, 4) if self.number == 1 else Quarter(self.fiscal_year, self.number - 1)


def quarter_parse(text: str) -> Quarter:
    """Parse ``2026Q3``, ``FY2026 Q3`` or ``2026-Q3``; raise ValueError otherwise."""
    match = _KEY_RE.match(text or "")
    if not match:
        raise ValueError(f"not a quarter: {text!r} (expected something like 2026Q3 or FY2026 Q3)")
    return Quarter(int(match.group(1)), int(match.group(2)))


def quarter_of(day: dt.date, *, start_month: int | None = None) -> Quarter:
    """The fiscal quarter containing ``day`` (a date, not a datetime: convert to local time first)."""
    start = _start_month(start_month)
    offset = (day.month - start) % 12
    first_year = day.year if day.month >= start else day.year - 1
    fiscal_year = first_year if start == 1 else first_year + 1
    return Quarter(fiscal_year, offset // 3 + 1)


def quarter_start(quarter: Quarter, *, start_month: int | None = None) -> dt.date:
    """The first day of the quarter."""
    start = _start_month(start_month)
    first_year = quarter.fiscal_year if start == 1 else quarter.fiscal_year - 1
    index = start - 1 + 3 * (quarter.number - 1)
    return dt.date(first_year + index // 12, index % 12 + 1, 1)


def quarter_end(quarter: Quarter, *, start_month: int | None = None) -> dt.date:
    """The last day of the quarter (inclusive)."""
    return quarter_start(quarter.next(), start_month=start_month) - dt.timedelta(days=1)


def quarter_days(quarter: Quarter, *, start_month: int | None = None) -> int:
    return (quarter_end(quarter, start_month=start_month) - quarter_start(quarter, start_month=start_month)).days + 1


def quarter_bounds(
    quarter: Quarter, *, start_month: int | None = None, tz: dt.tzinfo | None = None
) -> tuple[dt.datetime, dt.datetime]:
    """Aware datetimes ``[start, end)`` of the quarter in ``tz`` (default ``settings.TIME_ZONE``)."""
    zone = tz or _zone()
    start = quarter_start(quarter, start_month=start_month)
    end = quarter_start(quarter.next(), start_month=start_month)
    return (dt.datetime.combine(start, dt.time.min, tzinfo=zone), dt.datetime.combine(end, dt.time.min, tzinfo=zone))


def local_date(moment: dt.datetime, *, tz: dt.tzinfo | None = None) -> dt.date:
    """The calendar date of an aware datetime in ``tz`` (default ``settings.TIME_ZONE``)."""
    return moment.astimezone(tz or _zone()).date()


def current_quarter(*, now: dt.datetime | None = None, start_month: int | None = None) -> Quarter:
    from django.utils import timezone

    return quarter_of(local_date(now or timezone.now()), start_month=start_month)


def _zone() -> dt.tzinfo:
    from django.conf import settings

    return ZoneInfo(settings.TIME_ZONE)
