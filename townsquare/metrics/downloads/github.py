"""GitHub release downloads: ``GET /repos/<owner>/<repo>/releases`` on api.github.com, paginated by Link.

Each release lists its ``assets`` with an all-time ``download_count``
(https://docs.github.com/en/rest/releases/releases#list-releases); their sum is stored as a dated
snapshot. A token (``TOWNSQUARE_DOWNLOADS_GITHUB_TOKEN``) lifts the anonymous rate limit; it is sent only
to the configured GitHub API and never logged or shown.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.conf import settings

from townsquare.metrics.downloads.base import CumulativeTotal, as_count, base_url, garbage, get_json

KIND = "cumulative"
NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
# A repository with thousands of releases is read in full, but a Link loop must end.
MAX_PAGES = 50


def name_clean(name: str) -> str:
    name = name.strip().removeprefix("https://github.com/").strip("/")
    if not NAME.match(name) or name.endswith((".git", "/.", "/..")):
        raise ValueError("a GitHub repository is owner/repo, e.g. acme/cloud-cli")
    return name


def fetch(name: str, *, since: dt.date | None, today: dt.date) -> CumulativeTotal:
    what = f"GitHub repository {name}"
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    if settings.DOWNLOADS_GITHUB_TOKEN:
        headers["Authorization"] = f"Bearer {settings.DOWNLOADS_GITHUB_TOKEN}"
    url: str | None = f"{base_url(settings.DOWNLOADS_GITHUB_URL)}/repos/{name}/releases"
    params: dict[str, str] | None = {"per_page": "100"}
    total, releases, assets, pages = 0, 0, 0, 0
    while url is not None:
        pages += 1
        if pages > MAX_PAGES:
            raise garbage(what, f"more than {MAX_PAGES} pages of releases")
        if not url.startswith(base_url(settings.DOWNLOADS_GITHUB_URL) + "/"):
            raise garbage(what, "a next-page link points outside the GitHub API")  # never send the token elsewhere
        response = get_json(url, what=what, params=params, headers=headers, not_found="does not exist on GitHub")
        page_total, page_releases, page_assets = parse_page(response.data, what=what)
        total, releases, assets = total + page_total, releases + page_releases, assets + page_assets
        url, params = response.links.get("next", {}).get("url"), None  # the next link carries its own query
    return CumulativeTotal(total=total, detail={"releases": releases, "assets": assets})


def parse_page(data: Any, *, what: str) -> tuple[int, int, int]:
    if not isinstance(data, list):
        raise garbage(what, "the release list is not a list")
    total = assets = 0
    for release in data:
        files = release.get("assets") if isinstance(release, dict) else None
        if not isinstance(files, list):
            raise garbage(what, "a release has no assets list")
        for asset in files:
            count = as_count(asset.get("download_count")) if isinstance(asset, dict) else None
            if count is None:
                raise garbage(what, "an asset has no download_count")
            total += count
            assets += 1
    return total, len(data), assets
