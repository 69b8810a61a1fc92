from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from townsquare.core.quarters import (
    Quarter,
    current_quarter,
    local_date,
    quarter_bounds,
    quarter_days,
    quarter_end,
    quarter_of,
    quarter_parse,
    quarter_start,
)


@pytest.mark.parametrize(
    ("day", "start_month", "expected"),
    [
        (dt.date(2026, 1, 1), 1, "FY2026 Q1"),
        (dt.date(2026, 3, 31), 1, "FY2026 Q1"),
        (dt.date(2026, 4, 1), 1, "FY2026 Q2"),
        (dt.date(2026, 12, 31), 1, "FY2026 Q4"),
        # February start: the fiscal year is named after the year it ends in.
        (dt.date(2025, 2, 1), 2, "FY2026 Q1"),
        (dt.date(2026, 1, 31), 2, "FY2026 Q4"),
        (dt.date(2026, 2, 1), 2, "FY2027 Q1"),
        # July start (many governments, universities).
        (dt.date(2025, 7, 1), 7, "FY2026 Q1"),
        (dt.date(2025, 12, 31), 7, "FY2026 Q2"),
        (dt.date(2026, 1, 1), 7, "FY2026 Q3"),
        (dt.date(2026, 6, 30), 7, "FY2026 Q4"),
        (dt.date(2025, 12, 1), 12, "FY2026 Q1"),
        (dt.date(2026, 11, 30), 12, "FY2026 Q4"),
    ],
)
def test_it_finds_the_fiscal_quarter_of_a_date(day: dt.date, start_month: int, expected: str) -> None:
    assert quarter_of(day, start_month=start_month).label == expected


@pytest.mark.parametrize("start_month", range(1, 13))
def test_quarters_tile_the_calendar_without_gaps_or_overlaps(start_month: int) -> None:
    day = dt.date(2024, 1, 1)
    quarter = quarter_of(day, start_month=start_month)
    while day < dt.date(2028, 1, 1):
        found = quarter_of(day, start_month=start_month)
        assert quarter_start(found, start_month=start_month) <= day <= quarter_end(found, start_month=start_month)
        if found != quarter:
            assert found == quarter.next()
            assert day == quarter_start(found, start_month=start_month)
            quarter = found
        day += dt.timedelta(days=1)


def test_it_gives_start_end_and_length_of_a_quarter() -> None:
    q3 = Quarter(2026, 3)
    assert quarter_start(q3, start_month=2) == dt.date(2025, 8, 1)
    assert quarter_end(q3, start_month=2) == dt.date(2025, 10, 31)
    assert quarter_days(q3, start_month=2) == 92
    assert quarter_end(Quarter(2026, 4), start_month=1) == dt.date(2026, 12, 31)
    assert quarter_days(Quarter(2028, 1), start_month=1) == 91  # leap year


def test_it_labels_parses_and_steps_quarters() -> None:
    q = Quarter(2026, 4)
    assert (q.label, q.key, str(q)) == ("FY2026 Q4", "2026Q4", "FY2026 Q4")
    assert q.next() == Quarter(2027, 1) and Quarter(2027, 1).previous() == q
    for text in ("2026Q4", "FY2026 Q4", "fy2026-q4", " 2026 Q4 "):
        assert quarter_parse(text) == q
    assert min([Quarter(2027, 1), Quarter(2026, 4), Quarter(2026, 1)]) == Quarter(2026, 1)


@pytest.mark.parametrize("bad", ["", "2026Q5", "Q3", "FY26 Q1", "2026Q0"])
def test_it_refuses_what_is_not_a_quarter(bad: str) -> None:
    with pytest.raises(ValueError, match="not a quarter"):
        quarter_parse(bad)
    with pytest.raises(ValueError):
        Quarter(2026, 5)


def test_it_refuses_a_start_month_outside_one_to_twelve() -> None:
    with pytest.raises(ValueError, match="1 to 12"):
        quarter_of(dt.date(2026, 1, 1), start_month=13)


def test_quarter_bounds_follow_the_time_zone() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    start, end = quarter_bounds(Quarter(2026, 1), start_month=1, tz=tokyo)
    assert start == dt.datetime(2026, 1, 1, tzinfo=tokyo)
    assert end == dt.datetime(2026, 4, 1, tzinfo=tokyo)
    # 20:00 UTC on 31 March is already 1 April in Tokyo: the next quarter there.
    moment = dt.datetime(2026, 3, 31, 20, 0, tzinfo=dt.UTC)
    assert quarter_of(local_date(moment, tz=tokyo), start_month=1) == Quarter(2026, 2)
    assert quarter_of(local_date(moment, tz=dt.UTC), start_month=1) == Quarter(2026, 1)


def test_the_current_quarter_reads_the_settings(settings) -> None:
    settings.FISCAL_YEAR_START_MONTH = 7
    settings.TIME_ZONE = "America/New_York"
    # 02:00 UTC on 1 July is still 30 June in New York: Q4 of FY2026 there.
    moment = dt.datetime(2026, 7, 1, 2, 0, tzinfo=dt.UTC)
    assert current_quarter(now=moment) == Quarter(2026, 4)
    settings.TIME_ZONE = "UTC"
    assert current_quarter(now=moment) == Quarter(2027, 1)
