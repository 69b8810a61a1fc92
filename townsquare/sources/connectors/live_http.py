"""What the live chat connectors (Discord, Matrix, Zulip) share of talking HTTP to an API."""

from __future__ import annotations

import time
from typing import Any

import requests

from townsquare.core.errors import TownsquareError

MAX_RATE_LIMIT_WAIT = 60.0  # seconds; a longer wait ends the run, which resumes from its cursor later


def api_get(session: requests.Session, url: str, **kwargs: Any) -> requests.Response:
    """One GET (30 s timeout); a network failure ends the run with an error the next run resumes from."""
    try:
        return session.get(url, timeout=30, **kwargs)
    except requests.RequestException as exc:
        raise TownsquareError(f"{type(exc).__name__}; the next run resumes here", record=url, permanent=False) from exc


def wait_out_rate_limit(seconds: float, *, url: str, note: str = "") -> None:
    """Sleep the wait an API asked for, or end the run (resumable) when it is longer than a run should idle."""
    if seconds > MAX_RATE_LIMIT_WAIT:
        raise TownsquareError(
            f"rate limited for {seconds:.0f} s{note}; the next run resumes here", record=url, permanent=False
        )
    time.sleep(seconds)
