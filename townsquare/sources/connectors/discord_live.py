"""Discord, read live through the bot REST API: a guild's text, announcement and forum channels and their threads.

The bot needs only read access (View Channel, Read Message History); no privileged intent. Each
channel and thread keeps its own cursor (the newest message id read), so a run resumes where the
last stopped, and a look-back window re-reads recent messages to catch edits. Message objects are
the API's own, so they map to records exactly as a saved API export does (``discord_export``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any, ClassVar

import requests

from townsquare.core.errors import TownsquareError
from townsquare.sources.connectors.base import Checkpoint, MessageRecord, Record, RecordError
from townsquare.sources.connectors.discord_export import DiscordExportConnector
from townsquare.sources.connectors.live_http import MAX_RATE_LIMIT_WAIT, api_get, wait_out_rate_limit

logger = logging.getLogger(__name__)

DEFAULT_API = "https://discord.com/api/v10"
TEXT, ANNOUNCEMENT, FORUM = 0, 5, 15
READABLE = {TEXT, ANNOUNCEMENT, FORUM}
DISCORD_EPOCH_MS = 1_420_070_400_000
SERVER_ERROR_TRIES = 3


def snowflake_at(ms: int) -> int:
    """The smallest message id Discord can give a message sent at ``ms`` (Unix milliseconds)."""
    return max(0, ms - DISCORD_EPOCH_MS) << 22


def snowflake_ms(snowflake: int) -> int:
    return (snowflake >> 22) + DISCORD_EPOCH_MS


class DiscordConnector(DiscordExportConnector):
    kind = "discord"
    is_archive = False
    required: ClassVar[tuple[str, ...]] = ("guild_id",)
    settings_help: ClassVar[dict[str, str]] = {
        "guild_id": "the server's id (Developer Mode: right-click the server, Copy Server ID)",
        "channels": "optional: only these channel ids or names, e.g. help, 1037015991416258602",
        "lookback_hours": "re-read this many hours before each cursor, to catch edits (default 24)",
        "nicknames": "look up each new author's server nickname (default true; one API call per new author)",
        "api_url": f"default {DEFAULT_API}; a proxy or a recorded replay for tests",
    }
    secrets_help = "the bot token (Bot settings → Reset Token); the bot needs View Channel and Read Message History"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.api = (self.config.get("api_url") or DEFAULT_API).rstrip("/")
        self.page_size = int(self.config.get("page_size") or 100)
        self.session = requests.Session()
        self.nicks: dict[str, str | None] = {}

    # ---------------------------------------------------------------- HTTP

    def _token(self) -> str:
        token = str(self.secrets().get("token") or "")
        if not token:
            raise TownsquareError("no bot token: add it under the source's secrets", record=self.source.name)
        return token

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """One API call: waits out 429s (``retry_after``, global or per route) and retries 5xx a few times."""
        url = f"{self.api}{path}"
        headers = {"Authorization": f"Bot {self._token()}", "User-Agent": "Townsquare (self-hosted DevRel hub)"}
        server_errors = 0
        while True:
            response = api_get(self.session, url, params=params, headers=headers)
            if response.status_code == 429:
                self._wait(response, url)
                continue
            if response.status_code >= 500 and server_errors < SERVER_ERROR_TRIES - 1:
                server_errors += 1
                time.sleep(0.2 * 2**server_errors)
                continue
            if response.status_code == 401:
                raise TownsquareError("Discord refused the bot token (HTTP 401)", record=url, permanent=True)
            if response.status_code >= 400:
                raise _HttpError(response.status_code, _reason(response), url)
            if response.headers.get("X-RateLimit-Remaining") == "0":
                time.sleep(min(float(response.headers.get("X-RateLimit-Reset-After") or 0), MAX_RATE_LIMIT_WAIT))
            try:
                return response.json()
            except ValueError as exc:
                raise _HttpError(response.status_code, "the answer is not JSON (a malformed page)", url) from exc

    def _wait(self, response: requests.Response, url: str) -> None:
        try:
            body = response.json()
        except ValueError:
            body = {}
        wait = float(body.get("retry_after") or response.headers.get("Retry-After") or 1)
        logger.info("discord source %s: rate limited, waiting %.2f s", self.source.pk, wait)
        wait_out_rate_limit(wait, url=url, note=" (global)" if body.get("global") else "")

    # ---------------------------------------------------------------- reading

    def check(self) -> str:
        if not self.config.get("guild_id"):
            raise TownsquareError("missing setting guild_id", record=self.source.name, permanent=True)
        guild = self._get(f"/guilds/{self.config['guild_id']}")
        channels = self._channels()
        return f"Discord server {guild.get('name') or self.config['guild_id']}: {len(channels)} readable channels"

    def _channels(self) -> list[dict[str, Any]]:
        wanted = {str(c).strip().lstrip("#") for c in _as_list(self.config.get("channels"))}
        listed = self._get(f"/guilds/{self.config['guild_id']}/channels")
        if not isinstance(listed, list):
            raise TownsquareError("the channel list is not a list", record=self.source.name)
        return [
            c
            for c in listed
            if isinstance(c, dict)
            and c.get("type") in READABLE
            and (not wanted or str(c.get("id")) in wanted or c.get("name") in wanted)
        ]

    def fetch(self, cursor: dict[str, Any]) -> Iterator[Record]:
        if not self.config.get("guild_id"):
            raise TownsquareError("missing setting guild_id", record=self.source.name, permanent=True)
        channels = self._channels()
        for channel in channels:
            self.channel_names[str(channel["id"])] = str(channel.get("name") or channel["id"])
        threads = self._threads(channels)
        for number, channel in enumerate(channels, start=1):
            self.progress = (number - 1, len(channels))
            if channel.get("type") != FORUM:
                yield from self._read(channel, {}, channel, cursor)
            for thread in threads.get(str(channel["id"]), []):
                yield from self._read(thread, thread, channel, cursor)
        self.progress = (len(channels), len(channels))

    def _threads(self, channels: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        """Active threads of the guild and archived public threads of each channel, by parent id."""
        found: dict[str, dict[str, Any]] = {}
        active = self._get(f"/guilds/{self.config['guild_id']}/threads/active")
        for thread in (active or {}).get("threads") or []:
            found[str(thread["id"])] = thread
        for channel in channels:
            before: str | None = None
            while True:
                params: dict[str, Any] = {"limit": self.page_size}
                if before:
                    params["before"] = before
                try:
                    page = self._get(f"/channels/{channel['id']}/threads/archived/public", params)
                except _HttpError as exc:
                    if exc.status in (403, 404):
                        break  # reported when the channel itself is read
                    raise
                listed = (page or {}).get("threads") or []
                for thread in listed:
                    found.setdefault(str(thread["id"]), thread)
                if not page.get("has_more") or not listed:
                    break
                before = ((listed[-1].get("thread_metadata") or {}).get("archive_timestamp")) or None
                if before is None:
                    break
        by_parent: dict[str, list[dict[str, Any]]] = {}
        for thread in found.values():
            by_parent.setdefault(str(thread.get("parent_id")), []).append(thread)
        return by_parent

    def _read(
        self, container: dict[str, Any], thread: dict[str, Any], channel: dict[str, Any], cursor: dict[str, Any]
    ) -> Iterator[Record]:
        """One channel's or thread's messages after its cursor (less the look-back), oldest first."""
        key = f"discord:{container['id']}"
        last = int(cursor.get(key) or 0)
        if last and thread.get("last_message_id") and int(thread["last_message_id"]) <= last:
            return  # nothing new in this thread
        configured = self.config.get("lookback_hours")
        hours = float(24 if configured in (None, "") else configured)
        after = max(0, snowflake_at(snowflake_ms(last) - int(hours * 3_600_000))) if last else 0
        name = f"#{container.get('name') or container['id']}"
        newest = last
        while True:
            try:
                page = self._get(f"/channels/{container['id']}/messages", {"limit": self.page_size, "after": after})
            except _HttpError as exc:
                yield RecordError(record=name, reason=exc.explain())
                return
            if not isinstance(page, list):
                yield RecordError(record=name, reason="the message page is not a list; the next run retries")
                return
            ordered = sorted((m for m in page if isinstance(m, dict) and m.get("id")), key=lambda m: int(m["id"]))
            members = {str((m.get("author") or {}).get("id")): m.get("member") for m in ordered if m.get("member")}
            for record in self._api_thread(thread, list(reversed(ordered)), channel, name):
                if isinstance(record, MessageRecord) and record.author is not None:
                    author = record.author.external_id
                    nick = (members.get(author) or {}).get("nick") or self._nick(author)
                    record.author.display_name = nick or record.author.display_name
                yield record
            if ordered:
                after = int(ordered[-1]["id"])
                newest = max(newest, after)
                yield Checkpoint({key: str(newest)})
            if len(page) < self.page_size:
                return

    def _nick(self, user_id: str) -> str | None:
        """The author's name on this server (its nickname), looked up once per author; None if none is set.

        Authors stored by an earlier run keep their stored name and are not asked for again, so only
        a first import pays one call per author; ``nicknames: false`` skips the calls altogether.
        """
        if str(self.config.get("nicknames", True)).lower() in ("false", "0", "no", "off"):
            return None
        if user_id not in self.nicks:
            stored = self._stored_name(user_id)
            if stored is not None:
                self.nicks[user_id] = stored
        if user_id not in self.nicks:
            try:
                member = self._get(f"/guilds/{self.config['guild_id']}/members/{user_id}")
            except _HttpError:
                member = {}
            self.nicks[user_id] = (member or {}).get("nick") or None
        return self.nicks[user_id]

    def _stored_name(self, user_id: str) -> str | None:
        from townsquare.people.models import Identity

        return (
            Identity.objects.filter(realm="discord", external_id=user_id).values_list("display_name", flat=True).first()
        )


class _HttpError(Exception):
    def __init__(self, status: int, reason: str, url: str) -> None:
        super().__init__(f"HTTP {status}: {reason}")
        self.status, self.reason, self.url = status, reason, url

    def explain(self) -> str:
        if self.status in (403, 404):
            return f"the bot cannot read this channel (HTTP {self.status} {self.reason}); others are read"
        if self.status < 400:
            return f"{self.reason} at {self.url}; the next run retries"
        return f"HTTP {self.status} {self.reason} at {self.url}; the next run retries"


def _reason(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason or ""
    return str(body.get("message") or response.reason or "") if isinstance(body, dict) else response.reason or ""


def _as_list(value: Any) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [v for v in (p.strip() for p in value.split(",")) if v]
    return [str(v) for v in value]
