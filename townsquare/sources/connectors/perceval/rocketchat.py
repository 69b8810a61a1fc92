"""Rocket.Chat: a channel's messages and thread replies, through Perceval's backend (REST API v1)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

from townsquare.people.refs import IdentityRef
from townsquare.sources.connectors._util import markdown_to_html
from townsquare.sources.connectors.base import ChannelRef, MessageRecord, Record, parse_iso
from townsquare.sources.connectors.markup import shortcodes_to_emoji
from townsquare.sources.connectors.perceval.base import PercevalConnector, epoch_or_iso


class RocketChatConnector(PercevalConnector):
    kind = "rocketchat"
    backend = "perceval.backends.core.rocketchat.RocketChat"
    categories = ("message",)
    required = ("url", "channel")
    settings_help = {
        "url": "the server, e.g. https://chat.example.com",
        "channel": "the channel's name, e.g. general",
        "user_id": "the user id shown with the personal access token",
        "lookback_hours": "re-read this many hours before the cursor, to catch edits",
    }
    secrets_help = 'a personal access token: {"token": "...", "user_id": "..."} (user_id may be a setting instead)'

    def backend_args(self) -> dict[str, Any]:
        secrets = self.secrets()
        return {
            "url": self.config["url"].rstrip("/"),
            "channel": self.config["channel"],
            "user_id": secrets.get("user_id") or self.config.get("user_id") or "",
            "api_token": secrets.get("token") or "",
            "sleep_for_rate": True,
        }

    def records(self, data: dict[str, Any], category: str) -> Iterator[Record]:
        if data.get("t"):  # system messages: joins (uj), leaves (ul), topic changes (room_changed_topic)...
            return
        base = self.config["url"].rstrip("/")
        info = data.get("channel_info") or {}
        user = data.get("u") or {}
        text = shortcodes_to_emoji(data.get("msg") or "")
        room = info.get("name") or self.config["channel"]
        yield MessageRecord(
            external_id=data["_id"],
            kind="chat",
            created_at=_when(data["ts"]),
            updated_at=_when(data["editedAt"]) if data.get("editedAt") else None,
            channel=ChannelRef(
                external_id=data.get("rid") or info.get("_id") or room, name=f"#{room}", url=f"{base}/channel/{room}"
            ),
            author=IdentityRef(
                realm=f"rocketchat:{urlparse(base).hostname}",
                external_id=user["_id"],
                handle=user.get("username") or "",
                display_name=user.get("name") or user.get("username") or "",
                is_bot=bool(data.get("bot")) or "bot" in (user.get("roles") or []),
            )
            if user.get("_id")
            else None,
            body=text,
            body_html=markdown_to_html(text),
            url=f"{base}/channel/{room}?msg={data['_id']}",
            thread_external_id=data.get("tmid") or "",
            parent_external_id=data.get("tmid") or "",
        )


def _when(value: Any) -> Any:
    """Rocket.Chat dates: ISO strings from the REST API, ``{"$date": ms}`` in exports."""
    if isinstance(value, dict):
        return epoch_or_iso(value.get("$date"))
    return parse_iso(value)
