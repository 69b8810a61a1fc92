"""Matrix room exports: Element's "Export chat" JSON, or raw ``/rooms/{id}/messages`` responses.

Edits (``m.replace``) update the message they replace; a redaction removes the text of the message it redacts;
threads (``m.thread``) and replies (``m.in_reply_to``) keep their links.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from townsquare.people.refs import IdentityRef
from townsquare.sources.connectors._util import BAD_RECORD, files_under
from townsquare.sources.connectors.archive import json_file_records
from townsquare.sources.connectors.base import (
    ChannelRef,
    Connector,
    MessageDeleted,
    MessageRecord,
    Record,
    RecordError,
    from_epoch,
)

REALM = "matrix"  # user ids (@user:server) are global


class MatrixExportConnector(Connector):
    kind = "matrix_export"
    is_archive = True

    def fetch(self, cursor: dict[str, Any]) -> Iterator[Record]:
        yield from json_file_records(self, files_under(self.require_path(), ".json", ".json.gz"), self._room)

    def _room(self, data: Any, where: str) -> Iterator[Record]:
        if isinstance(data, dict):
            events = data.get("messages") or data.get("chunk") or []
        else:
            events = data if isinstance(data, list) else []
        room_id = (data.get("room_id") if isinstance(data, dict) else "") or next(
            (e.get("room_id") for e in events if isinstance(e, dict) and e.get("room_id")), ""
        )
        name = (data.get("room_name") if isinstance(data, dict) else "") or room_id or where
        channel = ChannelRef(
            external_id=room_id or name, name=name, url=f"https://matrix.to/#/{room_id}" if room_id else ""
        )
        edits: dict[str, dict[str, Any]] = {}
        for event in events:
            if not isinstance(event, dict):
                continue
            relates = (event.get("content") or {}).get("m.relates_to") or {}
            if relates.get("rel_type") == "m.replace" and relates.get("event_id"):
                previous = edits.get(relates["event_id"])
                if previous is None or event.get("origin_server_ts", 0) >= previous.get("origin_server_ts", 0):
                    edits[relates["event_id"]] = event
        for index, event in enumerate(events):
            try:
                if isinstance(event, dict) and event.get("type") == "m.room.redaction":
                    # "redacts" is top-level before room version 11, inside content from 11 on
                    target = event.get("redacts") or (event.get("content") or {}).get("redacts")
                    if target:
                        yield MessageDeleted(external_id=str(target))
                    continue
                if not isinstance(event, dict) or event.get("type") != "m.room.message":
                    continue
                content = event.get("content") or {}
                relates = content.get("m.relates_to") or {}
                if not content and (event.get("unsigned") or {}).get("redacted_because"):
                    yield MessageDeleted(external_id=str(event["event_id"]))  # read after its redaction
                    continue
                if not content or relates.get("rel_type") == "m.replace":
                    continue  # an edit (applied to its original below)
                event_id = event["event_id"]
                edit = edits.get(event_id)
                shown = ((edit.get("content") or {}).get("m.new_content") or content) if edit else content
                thread = relates.get("event_id", "") if relates.get("rel_type") == "m.thread" else ""
                reply = (relates.get("m.in_reply_to") or {}).get("event_id", "")
                sender = event["sender"]
                body = shown.get("body") or ""
                if shown.get("msgtype") == "m.emote":
                    body = f"* {sender} {body}"
                html = shown.get("formatted_body") if shown.get("format") == "org.matrix.custom.html" else ""
                yield MessageRecord(
                    external_id=event_id,
                    kind="chat",
                    created_at=from_epoch(event["origin_server_ts"] / 1000),
                    updated_at=from_epoch(edit["origin_server_ts"] / 1000) if edit else None,
                    channel=channel,
                    author=IdentityRef(
                        realm=REALM,
                        external_id=sender,
                        handle=sender,
                        display_name=(event.get("unsigned") or {}).get("displayname")
                        or sender.split(":")[0].lstrip("@"),
                    ),
                    body=body,
                    body_html=html or "",
                    url=f"https://matrix.to/#/{event.get('room_id') or room_id}/{event_id}",
                    thread_external_id=thread,
                    parent_external_id=reply or thread,
                )
            except BAD_RECORD as exc:
                yield RecordError(
                    record=f"{where}#{event.get('event_id', index) if isinstance(event, dict) else index}",
                    reason=f"unreadable event: {type(exc).__name__}: {exc}",
                )
