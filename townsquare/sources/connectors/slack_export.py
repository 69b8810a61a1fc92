"""Slack workspace export (the zip from "Export data"): channels.json, users.json, <channel>/<day>.json."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from typing import Any
from zlib import error as zlib_error

from townsquare.core.errors import TownsquareError
from townsquare.people.refs import IdentityRef
from townsquare.sources.connectors._util import BAD_RECORD, Unreadable, check_archive_size, load_json_member
from townsquare.sources.connectors.base import (
    ChannelRef,
    Connector,
    MessageRecord,
    Record,
    RecordError,
    UnitDone,
    UnitSkipped,
    from_epoch,
)
from townsquare.sources.connectors.markup import shortcodes_to_emoji

# Membership and housekeeping events: not conversation.
SYSTEM_SUBTYPES = frozenset(
    {
        "channel_join",
        "channel_leave",
        "channel_purpose",
        "channel_topic",
        "channel_name",
        "channel_archive",
        "channel_unarchive",
        "pinned_item",
        "unpinned_item",
        "bot_add",
        "bot_remove",
        "group_join",
        "group_leave",
        "group_purpose",
        "group_topic",
        "group_name",
        "group_archive",
        "group_unarchive",
        "reminder_add",
        "tombstone",
        "joiner_notification",
    }
)
_MENTION = re.compile(r"<([@#!])([^>|]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto):[^>|]+)(?:\|([^>]*))?>")


# Workspace files beside the channel folders that hold no messages (or none this importer reads).
_WORKSPACE_FILES = frozenset(
    {
        "users.json",
        "channels.json",
        "groups.json",
        "dms.json",
        "mpims.json",
        "integration_logs.json",
        "org_users.json",
        "canvases.json",
        "huddles.json",
        "lists.json",
    }
)
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}\.json")
_UNEXPECTED = (
    "not read: not a <channel>/<YYYY-MM-DD>.json file nor a workspace file of a Slack export (unexpected path)"
)


def _ignored(name: str) -> bool:
    """Folders, the workspace files, and what macOS adds to a zip it makes."""
    return (
        name.endswith("/")
        or name in _WORKSPACE_FILES
        or name.startswith("__MACOSX/")
        or name.rpartition("/")[2] in (".DS_Store", "Thumbs.db")
    )


class SlackExportConnector(Connector):
    kind = "slack_export"
    is_archive = True

    def fetch(self, cursor: dict[str, Any]) -> Iterator[Record]:
        path = self.require_path()
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise TownsquareError(f"not a readable zip (truncated or damaged?): {exc}", record=path.name) from exc
        with archive:
            names = archive.namelist()
            check_archive_size(path.name, (info.file_size for info in archive.infolist()))
            users = {
                u["id"]: u
                for u in self._json(archive, "users.json", default=[])
                if isinstance(u, dict) and isinstance(u.get("id"), str)
            }
            channels = [
                c
                for c in self._json(archive, "channels.json", default=[])
                if isinstance(c, dict) and isinstance(c.get("name"), str)
            ]
            team = next((u.get("team_id") for u in users.values() if u.get("team_id")), "") or self.config.get(
                "team", ""
            )
            realm = self.config.get("realm") or (f"slack:{team}" if team else "slack")
            base = (self.config.get("workspace_url") or "").rstrip("/")
            days_by_channel: dict[str, list[str]] = {}
            unexpected = []
            for name in names:
                folder, _, day = name.partition("/")
                if folder and _DAY.fullmatch(day):
                    days_by_channel.setdefault(folder, []).append(name)
                elif not _ignored(name):
                    unexpected.append(name)
            for name in unexpected:
                # Counted as rejected: a member we do not read may hold messages (an export zipped in a folder).
                yield RecordError(record=name, reason=_UNEXPECTED)
            known = {c.get("name"): c for c in channels}
            for folder in days_by_channel:
                known.setdefault(folder, {"id": folder, "name": folder})
            total = sum(len(v) for v in days_by_channel.values())
            done = 0
            for folder in sorted(days_by_channel):
                meta = known[folder]
                channel_id = meta.get("id") or folder
                url = f"{base}/archives/{channel_id}" if base else ""
                channel = ChannelRef(external_id=channel_id, name=f"#{meta.get('name') or folder}", url=url)
                for day in sorted(days_by_channel[folder]):
                    done += 1
                    self.progress = (done, total)
                    info = archive.getinfo(day)
                    fingerprint = f"{info.CRC:08x}:{info.file_size}:{team}:{base}"
                    seen = self.fingerprints.get(day)
                    if seen and seen[0] == fingerprint:
                        yield UnitSkipped(key=day, count=seen[1])
                        continue
                    count = 0
                    clean = True
                    try:
                        messages = load_json_member(archive, day)
                    except (zipfile.BadZipFile, EOFError, OSError, zlib_error) as exc:
                        raise TownsquareError(
                            f"zip member {day} is damaged (truncated archive?): {exc}", record=day
                        ) from exc
                    except Unreadable as exc:
                        yield RecordError(record=day, reason=str(exc))
                        continue
                    if not isinstance(messages, list):
                        yield RecordError(record=day, reason="expected a JSON array of messages")
                        continue
                    for index, message in enumerate(messages):
                        try:
                            record = self._record(message, channel, users, realm, base)
                        except BAD_RECORD as exc:
                            clean = False
                            yield RecordError(
                                record=f"{day}#{index}", reason=f"unreadable message: {type(exc).__name__}: {exc}"
                            )
                            continue
                        if record is not None:
                            count += 1
                            yield record
                    if clean:
                        yield UnitDone(key=day, fingerprint=fingerprint, count=count)

    def _json(self, archive: zipfile.ZipFile, name: str, *, default: Any) -> Any:
        try:
            data = load_json_member(archive, name)
        except KeyError:
            return default
        except Unreadable as exc:  # users.json or channels.json: every message depends on them
            raise TownsquareError(f"{name}: {exc}", record=name) from exc
        except (zipfile.BadZipFile, EOFError, OSError, zlib_error) as exc:
            raise TownsquareError(f"zip member {name} is damaged (truncated archive?): {exc}", record=name) from exc
        if not isinstance(data, list):
            raise TownsquareError("expected a JSON array", record=name)
        return data

    def _record(
        self, message: dict[str, Any], channel: ChannelRef, users: dict[str | None, Any], realm: str, base: str
    ) -> MessageRecord | None:
        if message.get("type") != "message" or message.get("subtype") in SYSTEM_SUBTYPES:
            return None
        ts = message["ts"]
        text = message.get("text") or ""
        user_id = message.get("user")
        if message.get("subtype") == "file_comment" and isinstance(message.get("comment"), dict):
            user_id = message["comment"].get("user") or user_id
        author = None
        if user_id:
            profile = users.get(user_id) or {}
            details = profile.get("profile") or {}
            email = details.get("email") or ""
            author = IdentityRef(
                realm=realm,
                external_id=user_id,
                handle=profile.get("name") or message.get("username") or user_id,
                display_name=profile.get("real_name") or details.get("real_name") or profile.get("name") or "",
                email=email,
                email_verified=bool(email),
                is_bot=bool(profile.get("is_bot")),
            )
        elif message.get("bot_id"):
            author = IdentityRef(
                realm=realm,
                external_id=message["bot_id"],
                handle=message.get("username") or "",
                display_name=message.get("username") or "",
                is_bot=True,
            )
        edited = message.get("edited") or {}
        thread_ts = message.get("thread_ts") or ""
        return MessageRecord(
            external_id=f"{channel.external_id}:{ts}",
            kind="chat",
            created_at=from_epoch(ts),
            updated_at=from_epoch(edited["ts"]) if edited.get("ts") else None,
            channel=channel,
            author=author,
            body=slack_plain(text, users),
            url=f"{base}/archives/{channel.external_id}/p{ts.replace('.', '')}" if base else "",
            thread_external_id=f"{channel.external_id}:{thread_ts}" if thread_ts else "",
            parent_external_id=f"{channel.external_id}:{thread_ts}" if thread_ts and thread_ts != ts else "",
        )


def slack_plain(text: str, users: dict[str | None, Any]) -> str:
    """Slack mrkdwn to readable text: <@U123> -> @name, <url|label> -> label (url), :tada: -> 🎉."""

    def link(match: re.Match[str]) -> str:
        url, label = match.group(1), match.group(2)
        return f"{label} ({url})" if label and label != url else url

    def mention(match: re.Match[str]) -> str:
        sigil, ident, label = match.groups()
        if sigil == "@":
            return "@" + (label or (users.get(ident) or {}).get("name") or ident)
        if sigil == "#":
            return "#" + (label or ident)
        return "@" + (label or ident.split("^")[0])

    text = _LINK.sub(link, text)
    text = _MENTION.sub(mention, text)
    text = shortcodes_to_emoji(text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
