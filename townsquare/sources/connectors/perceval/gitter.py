"""Gitter: a room's messages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from townsquare.people.refs import IdentityRef
from townsquare.sources.connectors.base import ChannelRef, MessageRecord, Record, parse_iso
from townsquare.sources.connectors.perceval.base import API_URL_HELP, CLIENTS, PercevalConnector


class GitterConnector(PercevalConnector):
    kind = "gitter"
    backend = f"{CLIENTS}.GitterBackend"  # Perceval's Gitter, with api_url
    categories = ("message",)
    required = ("group", "room")
    oldest_first = False
    settings_help = {
        "group": "e.g. jupyterlab",
        "room": "e.g. jupyterlab",
        "api_url": API_URL_HELP.format(default="https://api.gitter.im/v1"),
        "web_url": "where links point (default https://gitter.im)",
    }
    secrets_help = "a personal access token"

    def backend_args(self) -> dict[str, Any]:
        return {
            "group": self.config["group"],
            "room": self.config["room"],
            "api_token": self.secrets().get("token"),
            "sleep_for_rate": bool(self.config.get("sleep_for_rate", False)),
            "min_rate_to_sleep": int(self.config.get("min_rate_to_sleep", 10)),
            "api_url": self.config.get("api_url") or None,
        }

    def records(self, data: dict[str, Any], category: str) -> Iterator[Record]:
        room = f"{self.config['group']}/{self.config['room']}"
        web = (self.config.get("web_url") or "https://gitter.im").rstrip("/")
        user = data.get("fromUser") or {}
        yield MessageRecord(
            external_id=data["id"],
            kind="chat",
            created_at=parse_iso(data["sent"]),
            updated_at=parse_iso(data.get("editedAt")),
            channel=ChannelRef(external_id=room, name=room, url=f"{web}/{room}"),
            author=IdentityRef(
                realm="gitter",
                external_id=user["id"],
                handle=user.get("username") or "",
                display_name=user.get("displayName") or "",
            )
            if user.get("id")
            else None,
            body=data.get("text") or "",
            body_html=data.get("html") or "",
            url=f"{web}/{room}?at={data['id']}",
            parent_external_id=data.get("parentId") or "",
            thread_external_id=data.get("parentId") or "",
        )
