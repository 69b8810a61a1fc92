"""Discord archives: DiscordChatExporter (HTML and JSON) and raw Discord API message JSON (data.zip).

A path may be one export file, a ``.zip`` of raw API objects, or a directory of any of these.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zlib import error as zlib_error

from bs4 import BeautifulSoup, Tag

from townsquare.core.errors import TownsquareError
from townsquare.people.refs import IdentityRef
from townsquare.sources.connectors._util import (
    BAD_RECORD,
    Unreadable,
    check_archive_size,
    decode,
    guarded,
    load_json_file,
    load_json_member,
    markdown_to_html,
    open_binary,
)
from townsquare.sources.connectors.base import (
    ChannelRef,
    Connector,
    MessageRecord,
    Record,
    RecordError,
    parse_iso,
)
from townsquare.sources.connectors.markup import discord_plain, discord_user_name

REALM = "discord"  # user snowflakes are global across servers
# Message types that are conversation (default, reply, thread starter, slash-command reply).
CHAT_TYPES_API = {0, 19, 20, 21, 23}
CHAT_TYPES_DCE = {
    "Default",
    "Reply",
    "ThreadStarterMessage",
    "ChatInputCommand",
    "ContextMenuCommand",
    0,
    19,
    20,
    21,
    23,
}
_CHANNEL_ID_IN_NAME = re.compile(r"_(\d{15,21})(?:\.html?|\.json)(?:\.gz)?$")
_GUILD_ID_IN_ICON = re.compile(r"/icons/(\d{15,21})/")
_SCROLL_TARGET = re.compile(r"scrollToMessage\(event,\s*'(\d+)'\)")


def message_url(guild: str, channel: str, message: str) -> str:
    return f"https://discord.com/channels/{guild or '@me'}/{channel}/{message}"


class DiscordExportConnector(Connector):
    kind = "discord_export"
    is_archive = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Names for the ids Discord writes in message text (<@id>, <#id>), learnt as the export is read.
        self.user_names: dict[str, str] = {}
        self.channel_names: dict[str, str] = {}

    def _readable(self, content: str, message: dict[str, Any]) -> str:
        for user in [message.get("author"), *(message.get("mentions") or [])]:
            if isinstance(user, dict) and user.get("id"):
                self.user_names.setdefault(str(user["id"]), discord_user_name(user))
        return discord_plain(content, users=self.user_names, channels=self.channel_names)

    def fetch(self, cursor: dict[str, Any]) -> Iterator[Record]:
        path = self.require_path()
        files = (
            [path]
            if path.is_file()
            else sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and p.name.endswith((".zip", ".json", ".json.gz", ".html", ".html.gz", ".htm"))
            )
        )
        for number, file in enumerate(files, start=1):
            self.progress = (number - 1, len(files))
            if file.name.endswith(".zip"):
                yield from self._api_zip(file)
            elif file.name.endswith((".json", ".json.gz")):
                yield from guarded(self._json_file(file), record=file.name)
            else:
                yield from guarded(self._dce_html(file), record=file.name)
        self.progress = (len(files), len(files))

    # ---------------------------------------------------------------- raw Discord API objects (data.zip)

    def _api_zip(self, file: Path) -> Iterator[Record]:
        try:
            archive = zipfile.ZipFile(file)
        except (zipfile.BadZipFile, OSError) as exc:
            raise TownsquareError(f"not a readable zip (truncated or damaged?): {exc}", record=file.name) from exc
        with archive:
            check_archive_size(file.name, (info.file_size for info in archive.infolist()))
            parent: dict[str, Any] = {}
            if "channel_data.json" in archive.namelist():
                try:
                    data = load_json_member(archive, "channel_data.json")
                except Unreadable as exc:
                    yield RecordError(record=f"{file.name}/channel_data.json", reason=str(exc))
                    data = {}
                parent = data[0] if isinstance(data, list) and data else data if isinstance(data, dict) else {}
            for name in sorted(archive.namelist()):
                if not name.endswith(".json") or name.endswith("channel_data.json"):
                    continue
                try:
                    data = load_json_member(archive, name)
                except (zipfile.BadZipFile, EOFError, zlib_error) as exc:
                    raise TownsquareError(f"zip member {name} is damaged: {exc}", record=name) from exc
                except Unreadable as exc:
                    yield RecordError(record=f"{file.name}/{name}", reason=str(exc))
                    continue
                yield from guarded(self._api_objects(data, parent, f"{file.name}/{name}"), record=f"{file.name}/{name}")

    def _api_objects(self, data: Any, parent: dict[str, Any], where: str) -> Iterator[Record]:
        """``[{"thread": {...}, "messages": [...]}]``, or a bare API message array."""
        if isinstance(data, list) and data and isinstance(data[0], dict) and "messages" in data[0]:
            for entry in data:
                yield from self._api_thread(entry.get("thread") or {}, entry.get("messages") or [], parent, where)
        elif isinstance(data, list):
            yield from self._api_thread({}, data, parent, where)
        else:
            yield RecordError(record=where, reason="expected a list of Discord message objects")

    def _api_thread(
        self, thread: dict[str, Any], messages: list[Any], parent: dict[str, Any], where: str
    ) -> Iterator[Record]:
        guild = str(thread.get("guild_id") or parent.get("guild_id") or self.config.get("guild_id") or "")
        forum = thread and parent.get("type") == 15
        if forum:
            channel = ChannelRef(
                external_id=str(parent["id"]),
                name=f"#{parent.get('name') or parent['id']}",
                url=f"https://discord.com/channels/{guild}/{parent['id']}",
            )
        else:
            chan_id = str(
                thread.get("id") or parent.get("id") or (messages[0].get("channel_id") if messages else "") or ""
            )
            channel = ChannelRef(
                external_id=chan_id,
                name=f"#{thread.get('name') or parent.get('name') or chan_id}",
                url=f"https://discord.com/channels/{guild}/{chan_id}",
            )
        for known in (parent, thread):
            if known.get("id") and known.get("name"):
                self.channel_names[str(known["id"])] = str(known["name"])
        # The API returns newest first; store oldest first so replies follow what they answer.
        for index, message in enumerate(reversed(messages)):
            try:
                if not isinstance(message, dict):
                    raise TypeError("not an object")
                if message.get("type", 0) not in CHAT_TYPES_API:
                    continue
                msg_id = str(message["id"])
                channel_id = str(message.get("channel_id") or channel.external_id)
                author = message.get("author") or {}
                ref = message.get("message_reference") or {}
                is_first = forum and msg_id == str(thread.get("id"))
                content = self._readable(message.get("content") or "", message)
                yield MessageRecord(
                    external_id=msg_id,
                    kind=("post" if is_first else "reply") if forum else "chat",
                    created_at=parse_iso(message["timestamp"]),
                    updated_at=parse_iso(message.get("edited_timestamp")),
                    channel=channel,
                    author=_api_author(author),
                    title=(thread.get("name") or "") if is_first else "",
                    body=_with_attachments(content, message.get("attachments") or []),
                    body_html=markdown_to_html(content),
                    url=message_url(guild, channel_id, msg_id),
                    thread_external_id=str(thread.get("id") or "") if forum else "",
                    parent_external_id=str(ref.get("message_id") or ""),
                )
            except BAD_RECORD as exc:
                yield RecordError(
                    record=f"{where}#{message.get('id', index) if isinstance(message, dict) else index}",
                    reason=f"unreadable message: {type(exc).__name__}: {exc}",
                )

    # ---------------------------------------------------------------- DiscordChatExporter JSON

    def _json_file(self, file: Path) -> Iterator[Record]:
        try:
            data = load_json_file(file)
        except Unreadable as exc:  # one file of a folder: the others are still read
            yield RecordError(record=file.name, reason=str(exc))
            return
        if isinstance(data, dict) and "messages" in data and "channel" in data:
            yield from self._dce_json(data, file.name)
        else:
            yield from self._api_objects(data, {}, file.name)

    def _dce_json(self, data: dict[str, Any], where: str) -> Iterator[Record]:
        guild = str((data.get("guild") or {}).get("id") or "")
        meta = data.get("channel") or {}
        channel_id = str(meta.get("id") or "")
        name = meta.get("name") or channel_id
        category = meta.get("category")
        channel = ChannelRef(
            external_id=channel_id,
            name=f"{category} / #{name}" if category else f"#{name}",
            url=f"https://discord.com/channels/{guild}/{channel_id}",
        )
        thread_types = {"GuildPublicThread", "GuildPrivateThread", "GuildNewsThread", 10, 11, 12}
        is_thread = meta.get("type") in thread_types
        for index, message in enumerate(data.get("messages") or []):
            try:
                if message.get("type", "Default") not in CHAT_TYPES_DCE:
                    continue
                msg_id = str(message["id"])
                author = message.get("author") or {}
                content = discord_plain(
                    message.get("content") or "", users=self.user_names, channels=self.channel_names
                )
                reference = message.get("reference") or {}
                yield MessageRecord(
                    external_id=msg_id,
                    kind="chat",
                    created_at=parse_iso(message["timestamp"]),
                    updated_at=parse_iso(message.get("timestampEdited")),
                    channel=channel,
                    author=IdentityRef(
                        realm=REALM,
                        external_id=str(author["id"]),
                        handle=author.get("name") or "",
                        display_name=author.get("nickname") or author.get("name") or "",
                        is_bot=bool(author.get("isBot")),
                    )
                    if author.get("id")
                    else None,
                    body=_with_attachments(content, message.get("attachments") or []),
                    body_html=markdown_to_html(content),
                    url=message_url(guild, channel_id, msg_id),
                    thread_external_id=channel_id if is_thread else "",
                    parent_external_id=str(reference.get("messageId") or ""),
                )
            except BAD_RECORD as exc:
                yield RecordError(record=f"{where}#{index}", reason=f"unreadable message: {type(exc).__name__}: {exc}")

    # ---------------------------------------------------------------- DiscordChatExporter HTML

    def _dce_html(self, file: Path) -> Iterator[Record]:
        with open_binary(file) as handle:
            try:
                soup = BeautifulSoup(decode(handle.read()), "html.parser")
            except (EOFError, OSError) as exc:
                raise TownsquareError(f"cannot read the export: {exc}", record=file.name) from exc
        icon = soup.select_one("img.preamble__guild-icon")
        guild_match = _GUILD_ID_IN_ICON.search(_attr(icon, "src"))
        guild = guild_match.group(1) if guild_match else str(self.config.get("guild_id") or "")
        entries = [e.get_text(" ", strip=True) for e in soup.select("div.preamble__entry")]
        channel_match = _CHANNEL_ID_IN_NAME.search(file.name)
        channel_id = channel_match.group(1) if channel_match else file.name.split(".")[0]
        channel = ChannelRef(
            external_id=channel_id,
            name=entries[1] if len(entries) > 1 else file.stem,
            url=f"https://discord.com/channels/{guild}/{channel_id}",
        )
        for group in soup.select("div.chatlog__message-group"):
            author: IdentityRef | None = None
            for container in group.select("div.chatlog__message-container"):
                msg_id = _attr(container, "data-message-id") or _attr(container, "id").rsplit("-", 1)[-1]
                try:
                    header = container.select_one("span.chatlog__author")
                    if header is not None:
                        author = IdentityRef(
                            realm=REALM,
                            external_id=str(header["data-user-id"]),
                            handle=_attr(header, "title"),
                            display_name=header.get_text(strip=True),
                            is_bot=container.select_one(".chatlog__author-tag") is not None,
                        )
                    stamp = container.select_one("span.chatlog__timestamp") or container.select_one(
                        "div.chatlog__short-timestamp"
                    )
                    if stamp is None:
                        # System notifications (pins, joins) carry no author header of their own.
                        if container.select_one(".chatlog__system-notification-content") is not None:
                            continue
                        raise ValueError("no timestamp")
                    content = container.select_one("div.chatlog__content")
                    edited = container.select_one("span.chatlog__edited-timestamp")
                    if edited is not None:
                        edited.extract()
                    reply = container.select_one(".chatlog__reply-link")
                    parent = _SCROLL_TARGET.search(_attr(reply, "onclick")) if isinstance(reply, Tag) else None
                    body_html = content.decode_contents() if content is not None else ""
                    attachments = [a.get("href", "") for a in container.select(".chatlog__attachment a")]
                    text = content.get_text("", strip=False).strip() if content is not None else ""
                    yield MessageRecord(
                        external_id=str(msg_id),
                        kind="chat",
                        created_at=_dce_time(_attr(stamp, "title")),
                        updated_at=_dce_time(_attr(edited, "title")) if edited is not None else None,
                        channel=channel,
                        author=author,
                        body=_with_attachments(text, [{"url": a} for a in attachments if a]),
                        body_html=body_html,
                        url=message_url(guild, channel_id, str(msg_id)),
                        parent_external_id=parent.group(1) if parent else "",
                    )
                except BAD_RECORD as exc:
                    yield RecordError(
                        record=f"{file.name}#{msg_id}", reason=f"unreadable message: {type(exc).__name__}: {exc}"
                    )
        soup.decompose()


def _attr(tag: Tag | None, name: str) -> str:
    """A single-valued attribute's text, "" when absent (bs4 types every attribute as maybe a list)."""
    value = tag.get(name) if tag is not None else None
    return value if isinstance(value, str) else ""


def _dce_time(value: str) -> dt.datetime:
    # DiscordChatExporter writes "26 October 2025 18:52" in the export's zone (UTC in these exports).
    for fmt in ("%d %B %Y %H:%M", "%d %B %Y %H:%M:%S", "%A, %B %d, %Y %I:%M %p", "%d-%b-%y %I:%M %p"):
        try:
            return dt.datetime.strptime(value.strip(), fmt).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
    raise ValueError(f"unrecognised timestamp {value!r}")


def _api_author(author: dict[str, Any]) -> IdentityRef | None:
    if not author.get("id"):
        return None
    return IdentityRef(
        realm=REALM,
        external_id=str(author["id"]),
        handle=author.get("username") or "",
        display_name=author.get("global_name") or author.get("username") or "",
        is_bot=bool(author.get("bot")),
    )


def _with_attachments(text: str, attachments: list[Any]) -> str:
    urls = [a.get("url") for a in attachments if isinstance(a, dict) and a.get("url")]
    if not urls:
        return text
    return (text + "\n" if text else "") + "\n".join(f"[attachment] {u}" for u in urls)
