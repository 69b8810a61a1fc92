"""Zulip organisation exports (``manage.py export`` / the web export): realm.json + messages-*.json.

Only stream (channel) messages are imported; private messages stay out of Townsquare.
A path may be the export directory or its ``.tar.gz``.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from townsquare.core.errors import TownsquareError
from townsquare.people.refs import IdentityRef
from townsquare.sources.connectors._util import (
    BAD_RECORD,
    Unreadable,
    check_archive_size,
    guarded,
    html_to_text,
    parse_json,
    read_limited,
)
from townsquare.sources.connectors.base import (
    ChannelRef,
    Connector,
    MessageRecord,
    Record,
    RecordError,
    from_epoch,
)

STREAM = 2  # zerver_recipient.type for a stream


class ZulipExportConnector(Connector):
    kind = "zulip_export"
    is_archive = True

    def fetch(self, cursor: dict[str, Any]) -> Iterator[Record]:
        path = self.require_path()
        if path.is_file():
            try:
                with tarfile.open(path) as archive:
                    files = {
                        Path(m.name).name: m for m in archive.getmembers() if m.isfile() and m.name.endswith(".json")
                    }
                    check_archive_size(path.name, (m.size for m in files.values()))

                    def read(name: str) -> bytes:
                        extracted = archive.extractfile(files[name])
                        if extracted is None:  # never for the regular files picked above
                            raise OSError(f"{name} is not a regular file")
                        return read_limited(extracted, declared=files[name].size)

                    yield from self._export(sorted(files), read)
            except (tarfile.TarError, EOFError, OSError) as exc:
                raise TownsquareError(f"not a readable export tarball (truncated?): {exc}", record=path.name) from exc
        else:
            names = sorted(p.name for p in path.rglob("*.json"))
            where = {p.name: p for p in path.rglob("*.json")}
            yield from self._export(names, lambda name: _read_file(where[name]))

    def _export(self, names: list[str], read: Any) -> Iterator[Record]:
        if "realm.json" not in names:
            raise TownsquareError("no realm.json: not a Zulip export", record=self.source.name)
        try:
            realm_data = parse_json(read("realm.json"))
        except Unreadable as exc:  # every message needs its users and streams
            raise TownsquareError(f"realm.json: {exc}", record="realm.json") from exc
        try:
            realm_row, users, streams, recipients = _realm_tables(realm_data)
        except BAD_RECORD as exc:
            raise TownsquareError(
                f"realm.json has an unexpected structure: {type(exc).__name__}: {exc}", record="realm.json"
            ) from exc
        uri, string_id = (
            value if isinstance(value, str) else "" for value in (realm_row.get("uri"), realm_row.get("string_id"))
        )
        base = (self.config.get("url") or uri).rstrip("/")
        realm = self.config.get("realm") or f"zulip:{string_id or base or self.source.name}"
        topics: dict[tuple[int, str], str] = {}
        message_files = [n for n in names if n.startswith("messages-")]
        for number, name in enumerate(message_files, start=1):
            self.progress = (number - 1, len(message_files))
            try:
                rows = parse_json(read(name)).get("zerver_message", [])
            except Unreadable as exc:
                yield RecordError(record=name, reason=str(exc))
                continue
            except AttributeError:
                yield RecordError(record=name, reason="expected a JSON object with zerver_message")
                continue
            if not isinstance(rows, list):
                yield RecordError(record=name, reason="zerver_message is not a list")
                continue
            yield from guarded(self._messages(name, rows, realm, base, users, streams, recipients, topics), record=name)
        self.progress = (len(message_files), len(message_files))

    def _messages(
        self,
        name: str,
        rows: list[Any],
        realm: str,
        base: str,
        users: dict[Any, Any],
        streams: dict[Any, Any],
        recipients: dict[Any, Any],
        topics: dict[tuple[int, str], str],
    ) -> Iterator[Record]:
        for index, row in enumerate(sorted(rows, key=_by_id)):
            try:
                recipient = recipients.get(row["recipient"]) or {}
                if recipient.get("type") != STREAM:
                    continue
                stream = streams.get(recipient["type_id"]) or {
                    "id": recipient["type_id"],
                    "name": str(recipient["type_id"]),
                }
                topic = row.get("subject") or row.get("topic_name") or ""
                key = (stream["id"], topic)
                first = topics.setdefault(key, str(row["id"]))
                user = users.get(row["sender"]) or {}
                narrow = f"{base}/#narrow/channel/{stream['id']}-{quote(stream['name'])}/topic/{quote(topic)}/near/{row['id']}"
                email = user.get("delivery_email") or ""
                yield MessageRecord(
                    external_id=str(row["id"]),
                    kind="chat",
                    created_at=from_epoch(row["date_sent"]),
                    updated_at=from_epoch(row["last_edit_time"]) if row.get("last_edit_time") else None,
                    channel=ChannelRef(
                        external_id=str(stream["id"]),
                        name=f"#{stream['name']}",
                        url=f"{base}/#narrow/channel/{stream['id']}-{quote(stream['name'])}" if base else "",
                    ),
                    author=IdentityRef(
                        realm=realm,
                        external_id=str(row["sender"]),
                        handle=user.get("email") or "",
                        display_name=user.get("full_name") or "",
                        email=email,
                        email_verified=bool(email),
                        is_bot=bool(user.get("is_bot")),
                    ),
                    title=topic if first == str(row["id"]) else "",
                    body=row.get("content") or html_to_text(row.get("rendered_content") or ""),
                    body_html=row.get("rendered_content") or "",
                    url=narrow if base else "",
                    thread_external_id=first,
                    parent_external_id="" if first == str(row["id"]) else first,
                )
            except BAD_RECORD as exc:
                yield RecordError(
                    record=f"{name}#{row.get('id', index) if isinstance(row, dict) else index}",
                    reason=f"unreadable message: {type(exc).__name__}: {exc}",
                )


def _by_id(row: Any) -> tuple[int, int]:
    """Messages in id order; rows of another shape first (each becomes an error)."""
    ident = row.get("id") if isinstance(row, dict) else None
    return (1, ident) if isinstance(ident, int) and not isinstance(ident, bool) else (0, 0)


def _realm_tables(realm_data: Any) -> tuple[dict[str, Any], dict[Any, Any], dict[Any, Any], dict[Any, Any]]:
    """The realm row and the users, streams and recipients by id (non-objects and rows without an id left out)."""

    def rows(key: str) -> list[dict[str, Any]]:
        value = realm_data.get(key) or []
        return [row for row in value if isinstance(row, dict) and isinstance(row.get("id"), (int, str))]

    realm_row = (rows("zerver_realm") or [{}])[0]
    users = {u["id"]: u for u in rows("zerver_userprofile") + rows("zerver_userprofile_mirrordummy")}
    return realm_row, users, {s["id"]: s for s in rows("zerver_stream")}, {r["id"]: r for r in rows("zerver_recipient")}


def _read_file(path: Path) -> bytes:
    with path.open("rb") as handle:
        return read_limited(handle, declared=path.stat().st_size)
