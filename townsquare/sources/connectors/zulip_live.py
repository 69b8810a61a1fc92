"""Zulip, read live through its REST API: a stream's messages, each topic a thread.

``perceval-zulip`` (0.4.0) was tried first: it asks for two messages per request, always starts from
the oldest message (no resume) and fails on a stream with an odd number of messages, so this is a
connector of our own. ``GET /api/v1/messages`` is paged forwards from the newest id read, which is
the stream's cursor; a look-back re-reads recent messages to catch edits.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, ClassVar
from urllib.parse import quote

import requests

from townsquare.core.errors import TownsquareError
from townsquare.people.refs import IdentityRef
from townsquare.sources.connectors._util import html_to_text
from townsquare.sources.connectors.base import (
    ChannelRef,
    Checkpoint,
    Connector,
    MessageRecord,
    Record,
    RecordError,
    from_epoch,
)
from townsquare.sources.connectors.live_http import api_get, wait_out_rate_limit


class ZulipConnector(Connector):
    kind = "zulip"
    settings_help: ClassVar[dict[str, str]] = {
        "url": "the organisation's URL, e.g. https://community.example.zulipchat.com",
        "email": "the bot's email address (Settings → Bots)",
        "streams": "stream (channel) names, comma-separated, e.g. help, announce",
        "lookback_messages": "re-read this many messages before each cursor, to catch edits (default 200)",
    }
    secrets_help = "the bot's API key (a generic bot subscribed to the streams)"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.base = (self.config.get("url") or "").rstrip("/")
        self.page_size = int(self.config.get("page_size") or 1000)
        self.session = requests.Session()
        self.topics: dict[tuple[str, str], str] = {}  # (stream id, topic) -> the topic's first message id

    def _get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        key = self.secrets().get("token")
        if not key or not self.config.get("email"):
            raise TownsquareError("the bot's email and API key are needed", record=self.source.name)
        url = f"{self.base}/api/v1{path}"
        while True:
            response = api_get(self.session, url, params=params, auth=(self.config["email"], key))
            try:
                body = response.json()
            except ValueError:
                body = None
            if response.status_code == 429:
                wait = float((body or {}).get("retry-after") or response.headers.get("Retry-After") or 1)
                wait_out_rate_limit(wait, url=url)
                continue
            if response.status_code == 401:
                raise TownsquareError("Zulip refused the bot's API key (HTTP 401)", record=url, permanent=True)
            if not isinstance(body, dict):
                raise _ZulipError(f"the answer is not JSON (a malformed page) at {url}; the next run retries")
            if response.status_code >= 400 or body.get("result") != "success":
                raise _ZulipError(f"HTTP {response.status_code} {body.get('code') or ''}: {body.get('msg') or ''}")
            return body

    def check(self) -> str:
        streams = self._streams()
        return f"Zulip organisation {self.base}: {len(streams)} streams to read"

    def _streams(self) -> list[str]:
        if not self.base:
            raise TownsquareError("missing setting url", record=self.source.name, permanent=True)
        streams = [s.strip().lstrip("#") for s in str(self.config.get("streams") or "").split(",") if s.strip()]
        if not streams:
            raise TownsquareError("missing setting streams", record=self.source.name, permanent=True)
        return streams

    def fetch(self, cursor: dict[str, Any]) -> Iterator[Record]:
        streams = self._streams()
        for number, stream in enumerate(streams, start=1):
            self.progress = (number - 1, len(streams))
            yield from self._stream(stream, cursor)
        self.progress = (len(streams), len(streams))

    def _stream(self, stream: str, cursor: dict[str, Any]) -> Iterator[Record]:
        key = f"zulip:{stream}"
        last = int(cursor.get(key) or 0)
        lookback = int(self.config.get("lookback_messages") or 200) if last else 0
        anchor: str = "oldest"
        include_anchor = True
        if last:
            # Step back ``lookback`` messages from the cursor (edits land on old ids), then read forwards.
            try:
                back = self._get("/messages", self._params(stream, str(last), before=lookback, after=0))
            except _ZulipError as exc:
                yield RecordError(record=f"#{stream}", reason=str(exc))
                return
            ids = [m["id"] for m in back.get("messages") or []]
            anchor = str(min(ids)) if ids else str(last)
        while True:
            params = self._params(stream, anchor, before=0, after=self.page_size)
            params["include_anchor"] = json.dumps(include_anchor)
            try:
                page = self._get("/messages", params)
            except _ZulipError as exc:
                yield RecordError(record=f"#{stream}", reason=str(exc))
                return
            messages = [m for m in page.get("messages") or [] if isinstance(m, dict)]
            for message in messages:
                try:
                    yield self._record(message)
                except (KeyError, TypeError, ValueError) as exc:
                    yield RecordError(
                        record=f"#{stream} message {message.get('id', '?')}",
                        reason=f"unreadable message: {type(exc).__name__}: {exc}",
                    )
            if messages:
                newest = max(int(m["id"]) for m in messages)
                anchor, include_anchor = str(newest), False
                if newest > last:
                    last = newest
                    yield Checkpoint({key: str(newest)})
            if page.get("found_newest") or not messages:
                return

    def _params(self, stream: str, anchor: str, *, before: int, after: int) -> dict[str, Any]:
        return {
            "anchor": anchor,
            "num_before": before,
            "num_after": after,
            "apply_markdown": "true",
            "narrow": json.dumps([{"operator": "channel", "operand": stream}]),
        }

    def _record(self, message: dict[str, Any]) -> MessageRecord:
        stream_id = str(message["stream_id"])
        stream = str(message.get("display_recipient") or stream_id)
        topic = message.get("subject") or ""
        mid = str(message["id"])
        first = self._topic_start(stream_id, topic, mid)
        channel_url = f"{self.base}/#narrow/channel/{stream_id}-{quote(stream)}"
        html = message.get("content") or ""
        email = message.get("sender_email") or ""
        return MessageRecord(
            external_id=mid,
            kind="chat",
            created_at=from_epoch(message["timestamp"]),
            updated_at=from_epoch(message["last_edit_timestamp"]) if message.get("last_edit_timestamp") else None,
            channel=ChannelRef(external_id=stream_id, name=f"#{stream}", url=channel_url),
            author=IdentityRef(
                realm=f"zulip:{self.base}",
                external_id=str(message["sender_id"]),
                handle=email,
                display_name=message.get("sender_full_name") or email,
                is_bot="-bot@" in email,
            ),
            title=topic if first == mid else "",
            body=html_to_text(html),
            body_html=html,
            url=f"{channel_url}/topic/{quote(topic)}/near/{mid}",
            thread_external_id=first,
            parent_external_id="" if first == mid else first,
        )

    def _topic_start(self, stream_id: str, topic: str, message_id: str) -> str:
        """The topic's first message: read earlier in this run, stored by an earlier run, or this one."""
        key = (stream_id, topic)
        if key not in self.topics:
            from townsquare.sources.models import Message

            stored = (
                Message.objects.filter(source=self.source, channel__external_id=stream_id, title=topic)
                .exclude(title="")
                .order_by("created_at")
                .values_list("external_id", flat=True)
                .first()
                if self.source.pk
                else None
            )
            self.topics[key] = stored or message_id
        return self.topics[key]


class _ZulipError(Exception):
    pass
