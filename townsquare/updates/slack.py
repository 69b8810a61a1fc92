"""The Slack slash command ``/townsquare drop URL note``: Slack's request signature and the text's parts.

Slack signs each request with the app's signing secret: ``v0=`` + hex HMAC-SHA256 of
``v0:<X-Slack-Request-Timestamp>:<raw body>``. A request older than five minutes is a replay.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass

from townsquare.core.errors import TownsquareError

MAX_AGE_SECONDS = 5 * 60
USAGE = "Usage: /townsquare drop URL a line on why it belongs in the newsletter"
# Slack sends links as <https://example.com> or <https://example.com|example.com>.
_SLACK_LINK = re.compile(r"^<([^|>]+)(?:\|[^>]*)?>$")


def signature_for(*, secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signature_verify(*, secret: str, timestamp: str, signature: str, body: bytes, now: float | None = None) -> None:
    """Raise unless ``signature`` is Slack's for ``body`` and the timestamp is recent."""
    if not secret:
        raise TownsquareError("the Slack command is not configured (TOWNSQUARE_SLACK_SIGNING_SECRET is empty)")
    try:
        sent = int(timestamp)
    except ValueError as exc:
        raise TownsquareError("the request has no valid X-Slack-Request-Timestamp") from exc
    if abs((time.time() if now is None else now) - sent) > MAX_AGE_SECONDS:
        raise TownsquareError("the request's timestamp is more than five minutes off: refused as a replay")
    if not hmac.compare_digest(signature_for(secret=secret, timestamp=timestamp, body=body), signature):
        raise TownsquareError("the request's Slack signature does not match")


@dataclass(frozen=True)
class Drop:
    url: str
    note: str


def parse_drop(text: str) -> Drop:
    """``drop URL note`` → its URL and note; anything else is refused with the usage line."""
    words = text.strip().split(maxsplit=2)
    if len(words) < 2 or words[0].lower() != "drop":
        raise TownsquareError(USAGE)
    url = words[1]
    match = _SLACK_LINK.match(url)
    if match:
        url = match.group(1)
    note = words[2].strip() if len(words) > 2 else ""
    if not note:
        raise TownsquareError("add a line of context after the link. " + USAGE, record=url)
    return Drop(url=url, note=note)
