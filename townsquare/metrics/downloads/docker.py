"""Docker Hub pulls: ``GET /v2/repositories/<namespace>/<name>/`` on hub.docker.com, field ``pull_count``.

``pull_count`` is an all-time total, so it is stored as a dated snapshot and months are increases
between snapshots. Official images live in the ``library`` namespace (``library/postgres``).
"""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings

from townsquare.metrics.downloads.base import CumulativeTotal, as_count, base_url, garbage, get_json

KIND = "cumulative"
# Docker Hub namespaces and repository names: lower-case letters, digits, and . _ - separators.
PART = r"[a-z0-9]+(?:[._-][a-z0-9]+)*"
NAME = re.compile(rf"^(?:{PART}/)?{PART}$")


def name_clean(name: str) -> str:
    name = name.strip().lower()
    if not NAME.match(name):
        raise ValueError("a Docker Hub image is namespace/repository, e.g. acme/cloud-agent (or library/redis)")
    return name if "/" in name else f"library/{name}"


def fetch(name: str, *, since: dt.date | None, today: dt.date) -> CumulativeTotal:
    what = f"Docker Hub image {name}"
    url = f"{base_url(settings.DOWNLOADS_DOCKER_URL)}/v2/repositories/{name}/"
    return parse(get_json(url, what=what, not_found="does not exist on Docker Hub").data, what=what)


def parse(data: object, *, what: str) -> CumulativeTotal:
    count = as_count(data.get("pull_count")) if isinstance(data, dict) else None
    if count is None:
        raise garbage(what, "no pull_count")
    return CumulativeTotal(total=count)
