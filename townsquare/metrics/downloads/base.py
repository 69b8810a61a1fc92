"""What every registry fetcher shares: its two kinds of answer, its error, and one careful GET.

A fetcher returns either :class:`DailyCounts` (downloads per UTC day) or :class:`CumulativeTotal` (an
all-time total as of now), or raises :class:`FetchError`, whose ``permanent`` says whether trying again
later can help (a package that does not exist: no; a 500 or a rate limit: yes).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from django.conf import settings

from townsquare.core.errors import TownsquareError

logger = logging.getLogger(__name__)

USER_AGENT = "Townsquare downloads fetcher (self-hosted DevRel hub)"


class FetchError(TownsquareError):
    """A registry could not give us a package's figures; the message says why, in words a lead can act on."""


@dataclass(frozen=True)
class DailyCounts:
    days: dict[dt.date, int]
    # The days the registry was asked about: a day inside it with no row is a day with no data.
    start: dt.date | None = None
    end: dt.date | None = None


@dataclass(frozen=True)
class CumulativeTotal:
    total: int
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Response:
    data: Any
    links: Mapping[str, Mapping[str, str]]


def base_url(setting: str) -> str:
    return setting.rstrip("/")


def timeout() -> tuple[float, float]:
    """(connect, read) seconds: a registry that hangs must not hold the worker for minutes."""
    seconds = float(settings.DOWNLOADS_TIMEOUT_SECONDS)
    return (min(5.0, seconds), seconds)


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: either a number of seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def get_json(
    url: str,
    *,
    what: str,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    not_found: str = "does not exist",
) -> Response:
    """GET ``url`` and parse its JSON, honouring one 429 Retry-After within the configured bound.

    ``what`` names the package in every error ("PyPI package acme-cli"). Headers may carry a token: they
    are never logged, and neither is the URL's query.
    """
    request_headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
    waited = False
    while True:
        try:
            response = requests.get(url, params=params, headers=request_headers, timeout=timeout())
        except requests.Timeout as exc:
            raise FetchError(f"{what}: the registry did not answer within the timeout", permanent=False) from exc
        except requests.RequestException as exc:
            raise FetchError(f"{what}: could not reach the registry ({type(exc).__name__})", permanent=False) from exc
        if response.status_code == 429 or (response.status_code == 403 and _rate_limited(response)):
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            bound = float(settings.DOWNLOADS_MAX_RETRY_WAIT_SECONDS)
            if not waited and wait is not None and wait <= bound:
                logger.info("downloads: rate limited on %s, retrying in %.0f s", what, wait)
                time.sleep(wait)
                waited = True
                continue
            after = f"; it asked to wait {wait:.0f} s" if wait is not None else ""
            raise FetchError(
                f"{what}: rate limited by the registry (HTTP {response.status_code}){after}", permanent=False
            )
        break
    if response.status_code == 404:
        raise FetchError(f"{what} {not_found} (HTTP 404)", permanent=True)
    if response.status_code in (401, 403):
        raise FetchError(f"{what}: the registry refused access (HTTP {response.status_code})", permanent=True)
    if response.status_code >= 500:
        raise FetchError(f"{what}: the registry failed (HTTP {response.status_code})", permanent=False)
    if response.status_code != 200:
        raise FetchError(f"{what}: unexpected answer (HTTP {response.status_code})", permanent=True)
    try:
        data = response.json()
    except ValueError as exc:
        # Often a proxy's or CDN's error page served with 200: worth another try later.
        raise FetchError(f"{what}: the registry's answer is not JSON", permanent=False) from exc
    return Response(data=data, links=response.links)


def _rate_limited(response: requests.Response) -> bool:
    # GitHub answers 403 (not 429) once the primary rate limit is spent.
    return response.headers.get("X-RateLimit-Remaining") == "0" or "Retry-After" in response.headers


def garbage(what: str, detail: str) -> FetchError:
    """JSON of the wrong shape: the registry changed or a proxy answered; a later try may be clean."""
    return FetchError(f"{what}: unexpected answer from the registry ({detail})", permanent=False)


def as_count(value: Any) -> int | None:
    """A non-negative integer count, or None for anything else (booleans, floats, strings, negatives)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def parse_day(value: Any) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None
