"""npm downloads per day: ``GET /downloads/range/<start>:<end>/<package>`` on api.npmjs.org.

The answer is ``{"start": ..., "end": ..., "package": ..., "downloads": [{"day": "YYYY-MM-DD",
"downloads": N}, ...]}``; one request covers at most 18 months
(https://github.com/npm/registry/blob/main/docs/download-counts.md#ranges), so a backfill is chunked.
Scoped packages keep their ``@scope/`` in the path, as npm's own examples do.
"""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings

from townsquare.metrics.downloads.base import DailyCounts, FetchError, as_count, base_url, garbage, get_json, parse_day

KIND = "daily"
# npm names: lower case, URL-safe, at most 214 characters (https://docs.npmjs.com/cli/configuring-npm/package-json#name).
NAME = re.compile(r"^(?:@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*$")
CHUNK_MONTHS = 18
# npm's download counts begin on this day; asking for earlier days is an error.
FIRST_DAY = dt.date(2015, 1, 10)


def name_clean(name: str) -> str:
    name = name.strip()
    if len(name) > 214 or not NAME.match(name):
        raise ValueError("an npm package name is lower case, e.g. acme-cloud or @acme/cloud-sdk")
    return name


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def chunks(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """Inclusive ranges of at most 18 calendar months each, covering start..end."""
    ranges = []
    while start <= end:
        stop = min(end, add_months(start.replace(day=1), CHUNK_MONTHS) - dt.timedelta(days=1))
        ranges.append((start, stop))
        start = stop + dt.timedelta(days=1)
    return ranges


def fetch(name: str, *, since: dt.date | None, today: dt.date) -> DailyCounts:
    """Days from ``since`` (or the configured backfill) up to yesterday, a chunk at a time."""
    what = f"npm package {name}"
    end = today - dt.timedelta(days=1)
    start = since or add_months(today.replace(day=1), -int(settings.DOWNLOADS_BACKFILL_MONTHS))
    start = max(start, FIRST_DAY)
    days: dict[dt.date, int] = {}
    for first, last in chunks(start, end):
        url = f"{base_url(settings.DOWNLOADS_NPM_URL)}/downloads/range/{first:%Y-%m-%d}:{last:%Y-%m-%d}/{name}"
        data = get_json(url, what=what, not_found="does not exist on npm").data
        days.update(parse(data, what=what, today=today).days)
    if since is None:
        # npm answers 0 for days before a package existed: those are days without data, not zeros.
        nonzero = [day for day, count in days.items() if count]
        if not nonzero:
            return DailyCounts(days={}, start=start, end=end)
        days = {day: count for day, count in days.items() if day >= min(nonzero)}
        start = min(nonzero)
    return DailyCounts(days=days, start=start, end=end)


def parse(data: object, *, what: str, today: dt.date) -> DailyCounts:
    if isinstance(data, dict) and "error" in data and "downloads" not in data:
        raise FetchError(f"{what}: npm says {str(data['error'])[:200]}", permanent=True)
    rows = data.get("downloads") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise garbage(what, "no 'downloads' list")
    days: dict[dt.date, int] = {}
    for row in rows:
        day = parse_day(row.get("day")) if isinstance(row, dict) else None
        count = as_count(row.get("downloads")) if isinstance(row, dict) else None
        if day is None or count is None:
            raise garbage(what, f"unreadable row {str(row)[:80]}")
        if day < today:
            days[day] = count
    return DailyCounts(days=days, start=min(days) if days else None, end=today - dt.timedelta(days=1))
