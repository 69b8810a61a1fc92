"""PyPI downloads per day from pypistats.org: ``GET /api/packages/<name>/overall?mirrors=false``.

The answer is ``{"data": [{"category": "without_mirrors", "date": "YYYY-MM-DD", "downloads": N}, ...],
"package": ..., "type": "overall_downloads"}`` (https://pypistats.org/api/). pypistats keeps only the last
180 days (https://pypistats.org/about), so every fetch asks for all of them and we keep our own days.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import quote

from django.conf import settings

from townsquare.metrics.downloads.base import DailyCounts, as_count, base_url, garbage, get_json, parse_day

KIND = "daily"
# PEP 508 project names: letters, digits, and . _ - inside (https://peps.python.org/pep-0508/#names).
NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,198}[A-Za-z0-9])?$")


def name_clean(name: str) -> str:
    name = name.strip()
    if not NAME.match(name):
        raise ValueError("a PyPI project name has letters, digits, '.', '_' and '-' only, e.g. acme-cloud")
    # PEP 503 normalisation, which pypistats uses for its URLs.
    return re.sub(r"[-_.]+", "-", name).lower()


def fetch(name: str, *, since: dt.date | None, today: dt.date) -> DailyCounts:
    what = f"PyPI package {name}"
    url = f"{base_url(settings.DOWNLOADS_PYPI_URL)}/api/packages/{quote(name, safe='')}/overall"
    data = get_json(url, what=what, params={"mirrors": "false"}, not_found="is not known to pypistats.org").data
    return parse(data, what=what, today=today)


def parse(data: object, *, what: str, today: dt.date) -> DailyCounts:
    rows = data.get("data") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise garbage(what, "no 'data' list")
    days: dict[dt.date, int] = {}
    for row in rows:
        if not isinstance(row, dict):
            raise garbage(what, "a row is not an object")
        if row.get("category") not in (None, "without_mirrors"):
            continue  # mirrors=false should send only these; never add mirror traffic in
        day, count = parse_day(row.get("date")), as_count(row.get("downloads"))
        if day is None or count is None:
            raise garbage(what, f"unreadable row {str(row)[:80]}")
        if day >= today:
            continue  # today's figure is still being counted
        days[day] = days.get(day, 0) + count
    start = min(days) if days else None
    return DailyCounts(days=days, start=start, end=today - dt.timedelta(days=1))
