"""Mattermost: a channel's posts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

from townsquare.people.refs import IdentityRef
from townsquare.sources.connectors._util import markdown_to_html
from townsquare.sources.connectors.base import ChannelRef, MessageRecord, Record
from townsquare.sources.connectors.perceval.base import PercevalConnector, epoch_or_iso


class MattermostConnector(PercevalConnector):
    kind = "mattermost"
    backend = "perceval.backends.core.mattermost.Mattermost"
    categories = ("post",)
    required = ("url", "channel")
    oldest_first = False
    settings_help = {
        "url": "the server, e.g. https://chat.example.com",
        "channel": "channel id (or its name, with team)",
        "team": "team name, when channel is a name",
        "lookback_hours": "re-read this many hours before the cursor, to catch edits",
    }
    secrets_help = "a personal access token (or a bot account's)"

    def backend_args(self) -> dict[str, Any]:
        channel = self.config["channel"]
        # Perceval looks a channel up by name only when given a team; an id (26 characters) needs none.
        by_name = not re.fullmatch(r"[a-z0-9]{26}", channel)
        return {
            "url": self.config["url"].rstrip("/"),
            "channel": channel,
            "team": self.config.get("team") if by_name else None,
            # Mattermost limits requests per second (X-Ratelimit-Limit: 10 by default) and its reset header
            # counts seconds, not a date: Perceval's default (stop below 10 left) would stop every run.
            "api_token": self.secrets().get("token"),
            "sleep_for_rate": bool(self.config.get("sleep_for_rate", True)),
            "min_rate_to_sleep": int(self.config.get("min_rate_to_sleep", 1)),
            "sleep_time": float(self.config.get("sleep_time", 1)),
        }

    def records(self, data: dict[str, Any], category: str) -> Iterator[Record]:
        if data.get("type"):  # system_join_channel and friends
            return
        base = self.config["url"].rstrip("/")
        user = data.get("user_data") or {}
        info = data.get("channel_data") or {}
        name = " ".join(filter(None, [user.get("first_name"), user.get("last_name")])) or user.get("username") or ""
        channel_id = data.get("channel_id") or self.config["channel"]
        team = self.config.get("team")
        yield MessageRecord(
            external_id=data["id"],
            kind="chat",
            created_at=epoch_or_iso(data["create_at"]),
            updated_at=epoch_or_iso(data.get("edit_at")) if data.get("edit_at") else None,
            channel=ChannelRef(
                external_id=channel_id,
                name=f"~{info.get('name') or channel_id}",
                url=f"{base}/{team}/channels/{info['name']}" if team and info.get("name") else "",
            ),
            author=IdentityRef(
                realm=f"mattermost:{urlparse(base).hostname}",
                external_id=data["user_id"],
                handle=user.get("username") or "",
                display_name=name,
                email=user.get("email") or "",
                is_bot=bool(user.get("is_bot")),
            )
            if data.get("user_id")
            else None,
            body=data.get("message") or "",
            body_html=markdown_to_html(data.get("message") or ""),
            url=f"{base}/{team}/pl/{data['id']}" if team else f"{base}/_redirect/pl/{data['id']}",
            thread_external_id=data.get("root_id") or "",
            parent_external_id=data.get("root_id") or "",
        )
