from __future__ import annotations

import datetime as dt

import pytest

from townsquare.core.weeks import iso_week_label, last_complete_week, parse_week, week_bounds, week_start_of

UTC = dt.UTC


def test_week_start_is_the_monday() -> None:
    assert week_start_of(dt.date(2026, 11, 22)) == dt.date(2026, 11, 16)  # a Sunday
    assert week_start_of(dt.date(2026, 11, 16)) == dt.date(2026, 11, 16)


def test_week_bounds_follow_the_company_time_zone(settings) -> None:
    settings.TIME_ZONE = "America/New_York"
    start, end = week_bounds(dt.date(2026, 11, 16))
    assert start.astimezone(UTC) == dt.datetime(2026, 11, 16, 5, 0, tzinfo=UTC)
    assert end - start == dt.timedelta(days=7)
    with pytest.raises(ValueError, match="not a Monday"):
        week_bounds(dt.date(2026, 11, 17))


def test_on_monday_morning_the_last_complete_week_is_the_previous_one(settings) -> None:
    settings.TIME_ZONE = "Asia/Tokyo"
    # Sunday 23:30 UTC is already Monday 08:30 in Tokyo.
    assert last_complete_week(dt.datetime(2026, 11, 22, 23, 30, tzinfo=UTC)) == dt.date(2026, 11, 16)
    settings.TIME_ZONE = "UTC"
    assert last_complete_week(dt.datetime(2026, 11, 22, 23, 30, tzinfo=UTC)) == dt.date(2026, 11, 9)


def test_weeks_parse_from_iso_labels_or_dates() -> None:
    assert parse_week("2026-W47") == dt.date(2026, 11, 16)
    assert parse_week("2026w47") == dt.date(2026, 11, 16)
    assert parse_week("2026-11-19") == dt.date(2026, 11, 16)
    assert iso_week_label(dt.date(2026, 11, 16)) == "2026-W47"
    assert iso_week_label(dt.date(2026, 12, 28)) == "2026-W53"
    with pytest.raises(ValueError, match="not a week: 'last week'"):
        parse_week("last week")
