"""Matrix, read live through the client-server API: rooms by id or alias, with threads and edits.

``/rooms/{id}/messages`` is paged forwards with its ``end`` token, which is each room's cursor.
Events map to records exactly as a room export does (``matrix_export``); an edit whose original
was read by an earlier page or run brings the original along, so the stored message is updated.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, ClassVar
from urllib.parse import quote

import requests

from townsquare.core.errors import TownsquareError
from townsquare.sources.connectors.base import Checkpoint, Record, RecordError
from townsquare.sources.connectors.live_http import api_get, wait_out_rate_limit
from townsquare.sources.connectors.matrix_export import MatrixExportConnector

logger = logging.getLogger(__name__)

API = "/_matrix/client/v3"


class MatrixConnector(MatrixExportConnector):
    kind = "matrix"
    is_archive = False
    settings_help: ClassVar[dict[str, str]] = {
        "homeserver": "the homeserver's URL, e.g. https://matrix.example.org",
        "rooms": "room ids or aliases, comma-separated, e.g. #community:example.org",
    }
    secrets_help = "an access token of an account that has joined the rooms (a bot account is best)"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.base = (self.config.get("homeserver") or "").rstrip("/")
        self.page_size = int(self.config.get("page_size") or 100)
        self.session = requests.Session()

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        token = self.secrets().get("token")
        if not token:
            raise TownsquareError("no access token: add it under the source's secrets", record=self.source.name)
        url = f"{self.base}{API}{path}"
        while True:
            response = api_get(self.session, url, params=params, headers={"Authorization": f"Bearer {token}"})
            body = _json(response)
            if response.status_code == 429:
                wait_out_rate_limit(float((body or {}).get("retry_after_ms") or 1000) / 1000, url=url)
                continue
            if response.status_code == 401:
                raise TownsquareError(
                    f"the homeserver refused the access token (HTTP 401 {body.get('errcode') or ''})".rstrip(),
                    record=url,
                    permanent=True,
                )
            if response.status_code >= 400 or body is None:
                raise _MatrixError(response.status_code, body or {}, url)
            return body

    def check(self) -> str:
        rooms = self._rooms()
        return f"Matrix homeserver {self.base}: {len(rooms)} rooms readable"

    def _rooms(self) -> list[tuple[str, str]]:
        """(room id, name) for each configured room; an alias is resolved through the room directory."""
        if not self.base:
            raise TownsquareError("missing setting homeserver", record=self.source.name, permanent=True)
        wanted = [r.strip() for r in str(self.config.get("rooms") or "").split(",") if r.strip()]
        if not wanted:
            raise TownsquareError("missing setting rooms", record=self.source.name, permanent=True)
        rooms = []
        for room in wanted:
            room_id = room
            if room.startswith("#"):
                try:
                    room_id = self._get(f"/directory/room/{quote(room)}")["room_id"]
                except (_MatrixError, KeyError) as exc:
                    raise TownsquareError(
                        f"the room alias is not in the homeserver's directory ({exc})", record=room, permanent=True
                    ) from exc
            try:
                name = self._get(f"/rooms/{quote(room_id)}/state/m.room.name").get("name") or room
            except _MatrixError:
                name = room
            rooms.append((room_id, name))
        return rooms

    def fetch(self, cursor: dict[str, Any]) -> Iterator[Record]:
        rooms = self._rooms()
        for number, (room_id, name) in enumerate(rooms, start=1):
            self.progress = (number - 1, len(rooms))
            yield from self._room_pages(room_id, name, cursor)
        self.progress = (len(rooms), len(rooms))

    def _room_pages(self, room_id: str, name: str, cursor: dict[str, Any]) -> Iterator[Record]:
        key = f"matrix:{room_id}"
        token = cursor.get(key) or None
        while True:
            params: dict[str, Any] = {"dir": "f", "limit": self.page_size}
            if token:
                params["from"] = token
            try:
                page = self._get(f"/rooms/{quote(room_id)}/messages", params)
            except _MatrixError as exc:
                yield RecordError(record=name, reason=exc.explain())
                return
            chunk = [e for e in page.get("chunk") or [] if isinstance(e, dict)]
            events = self._with_edited_originals(room_id, chunk)
            yield from self._room({"room_id": room_id, "room_name": name, "chunk": events}, name)
            end = page.get("end")
            if end:
                token = end
                yield Checkpoint({key: end})
            if not end or not chunk:
                return  # caught up: the next run asks again from the last token

    def _with_edited_originals(self, room_id: str, chunk: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The chunk, plus the originals of edits in it that earlier pages or runs read."""
        present = {e.get("event_id") for e in chunk}
        originals = []
        for event in chunk:
            relates = (event.get("content") or {}).get("m.relates_to") or {}
            target = relates.get("event_id")
            if relates.get("rel_type") == "m.replace" and target and target not in present:
                try:
                    originals.append(self._get(f"/rooms/{quote(room_id)}/event/{quote(target)}"))
                except _MatrixError:
                    continue  # the original is gone (redacted or never visible): nothing to update
                present.add(target)
        return originals + chunk


class _MatrixError(Exception):
    def __init__(self, status: int, body: dict[str, Any], url: str) -> None:
        super().__init__(f"HTTP {status} {body.get('errcode') or ''}")
        self.status, self.body, self.url = status, body, url

    def explain(self) -> str:
        code = self.body.get("errcode") or ""
        said = self.body.get("error") or ""
        if self.status == 403:
            return f"the account cannot read this room (HTTP 403 {code}: {said}); other rooms are read"
        if self.status == 200:
            return f"the answer is not JSON (a malformed page) at {self.url}; the next run retries"
        return f"HTTP {self.status} {code} {said} at {self.url}; the next run retries".replace("  ", " ")


def _json(response: requests.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
