"""Slack: a channel's messages and threads, through the Web API."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from townsquare.people.models import Identity
from townsquare.people.refs import IdentityRef
from townsquare.sources.connectors.base import ChannelRef, MessageRecord, Record, from_epoch
from townsquare.sources.connectors.perceval.base import API_URL_HELP, CLIENTS, PercevalConnector
from townsquare.sources.connectors.slack_export import slack_plain

_USER_MENTION = re.compile(r"<@([A-Z0-9]+)")


class SlackConnector(PercevalConnector):
    kind = "slack"
    backend = f"{CLIENTS}.SlackBackend"  # Perceval's Slack, with api_url
    categories = ("message",)
    required = ("channel",)
    oldest_first = False
    settings_help = {
        "channel": "conversation id, e.g. C0123ABCD",
        "workspace_url": "e.g. https://acme.slack.com, for links back",
        "api_url": API_URL_HELP.format(default="https://slack.com") + ", e.g. Slack Enterprise Grid",
        "lookback_hours": "re-read this many hours before the cursor, to catch edits (default 0)",
    }
    secrets_help = "a bot token (xoxb-...) with channels:history, channels:read and users:read"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user_names: dict[str | None, Any] = {}  # Slack user id -> {"name": handle}, for <@U123> mentions

    def _readable(self, text: str, author: dict[str, Any], realm: str) -> str:
        """Mentions as @name (authors read so far, else people already stored) and :emoji: as emoji."""
        names = self.user_names
        if author.get("id") and author.get("name"):
            names[author["id"]] = {"name": author["name"]}
        for ident in _USER_MENTION.findall(text):
            if ident not in names:
                handle = (
                    Identity.objects.filter(realm=realm, external_id=ident).values_list("handle", flat=True).first()
                )
                names[ident] = {"name": handle} if handle else {}
        return slack_plain(text, names)

    def backend_args(self) -> dict[str, Any]:
        return {
            "channel": self.config["channel"],
            "api_token": self.secrets().get("token"),
            "api_url": self.config.get("api_url") or None,
        }

    def records(self, data: dict[str, Any], category: str) -> Iterator[Record]:
        if data.get("subtype") in {"channel_join", "channel_leave", "channel_topic", "channel_purpose", "channel_name"}:
            return
        info = data.get("channel_info") or {}
        channel_id = info.get("id") or self.config["channel"]
        user = data.get("user_data") or {}
        team = user.get("team_id") or self.config.get("team", "")
        profile = user.get("profile") or {}
        ts = data["ts"]
        base = (self.config.get("workspace_url") or "").rstrip("/")
        yield MessageRecord(
            external_id=f"{channel_id}:{ts}",
            kind="chat",
            created_at=from_epoch(ts),
            updated_at=from_epoch(data["edited"]["ts"]) if (data.get("edited") or {}).get("ts") else None,
            channel=ChannelRef(
                external_id=channel_id,
                name=f"#{info.get('name') or channel_id}",
                url=f"{base}/archives/{channel_id}" if base else "",
            ),
            author=IdentityRef(
                realm=f"slack:{team}" if team else "slack",
                external_id=user.get("id") or data.get("user") or "",
                handle=user.get("name") or "",
                display_name=user.get("real_name") or user.get("name") or "",
                email=profile.get("email") or "",
                email_verified=bool(profile.get("email")),
                is_bot=bool(user.get("is_bot")),
            )
            if (user.get("id") or data.get("user"))
            else None,
            body=self._readable(data.get("text") or "", user, f"slack:{team}" if team else "slack"),
            url=f"{base}/archives/{channel_id}/p{ts.replace('.', '')}" if base else "",
            thread_external_id=f"{channel_id}:{data['thread_ts']}" if data.get("thread_ts") else "",
            parent_external_id=f"{channel_id}:{data['thread_ts']}"
            if data.get("thread_ts") and data["thread_ts"] != ts
            else "",
        )
