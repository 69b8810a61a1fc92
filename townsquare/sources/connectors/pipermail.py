"""Mailman 2 Pipermail text archives (``2025-April.txt``, ``2025q1.txt.gz``).

Split on the strict mbox From_ line, not with :mod:`mailbox`: Pipermail does not
escape body lines that begin with "From ", and ``mailbox.mbox`` over-splits there.
Addresses are obfuscated ("x at y.org", or stat.ethz.ch's lossy scheme), so the
identity key is the whole From header; the display name is the part in parentheses.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import shutil
import tempfile
from collections.abc import Iterator
from email.header import decode_header, make_header
from email.parser import HeaderParser
from email.policy import compat32
from pathlib import Path
from typing import Any

import requests
from django.conf import settings

from townsquare.core.errors import TownsquareError
from townsquare.people.refs import IdentityRef
from townsquare.sources.connectors._util import decode_mail, files_under, open_binary
from townsquare.sources.connectors.base import (
    ChannelRef,
    Checkpoint,
    Connector,
    MessageRecord,
    Record,
    RecordError,
)

FROM_LINE = re.compile(rb"^From .+  [A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}$")
_PAREN_NAME = re.compile(r"\(([^()]*)\)\s*$")
_PLAIN_AT = re.compile(r"^\s*([\w.+-]+) at ([\w-]+(?:\.[\w-]+)+)\s*(?:\(|$)")
_MSGID = re.compile(r"<([^<>\s]+)>")


def split_messages(path: Path) -> Iterator[tuple[int, bytes]]:
    """Yield (first line number, raw bytes) for each message, splitting on the strict From_ line."""
    block: list[bytes] = []
    start = 1
    with open_binary(path) as handle:
        for lineno, line in enumerate(handle, start=1):
            if FROM_LINE.match(line.rstrip(b"\r\n")) and block:
                yield start, b"".join(block)
                block = []
                start = lineno
            block.append(line)
    if block:
        yield start, b"".join(block)


def _header(value: str | None) -> str:
    if not value:
        return ""
    try:
        return str(make_header(decode_header(value))).strip()
    except (UnicodeDecodeError, LookupError, ValueError):
        return value.strip()


class PipermailConnector(Connector):
    """An archive of Pipermail files, or (with ``url`` and no ``path``) a live Pipermail archive.

    A live archive's monthly files are listed and downloaded by Perceval's PipermailList, then
    read by this parser (Perceval's mbox reader over-splits Pipermail files, see above). The
    cursor is the month of the newest message: the next run downloads that month again, and later ones.
    """

    kind = "pipermail"
    is_archive = True
    settings_help = {
        "path": "Pipermail .txt / .txt.gz files (or a folder of them) on this server, or upload them",
        "url": "instead of path: a live archive index, e.g. https://mail.python.org/pipermail/python-dev/",
        "list": "list name shown as the channel",
        "archive_url": "for links back (default: url)",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.path is None and self.config.get("url"):
            self.is_archive = False  # downloaded each run and resumed by month, not an archive on disk

    def check(self) -> str:
        if self.is_archive:
            return super().check()
        return f"live Pipermail archive at {self.config['url']} (monthly files downloaded through Perceval)"

    def fetch(self, cursor: dict[str, Any]) -> Iterator[Record]:
        if not self.is_archive:
            yield from self._fetch_live(cursor)
            return
        root = self.require_path()
        list_name = self.config.get("list") or self.folder_name(root if root.is_dir() else root.parent)
        yield from self._read(files_under(root, ".txt", ".txt.gz", ".mbox"), list_name)

    def _fetch_live(self, cursor: dict[str, Any]) -> Iterator[Record]:
        from perceval.backends.core.pipermail import PipermailList

        url = self.config["url"].rstrip("/") + "/"
        since = dt.datetime.fromtimestamp(float(cursor.get("from_date:message") or 0), tz=dt.UTC)
        base = Path(settings.DATA_DIR) / "perceval" / str(self.source.pk or "new")
        base.mkdir(parents=True, exist_ok=True)
        folder = tempfile.mkdtemp(prefix="run-", dir=base)
        try:
            archive = PipermailList(url, folder)
            try:
                archive.fetch(from_date=since)
            except requests.RequestException as exc:
                response = getattr(exc, "response", None)
                request = getattr(exc, "request", None)
                page = (response.url if response is not None else None) or (request.url if request is not None else url)
                reason = (
                    f"HTTP {response.status_code} {response.reason}" if response is not None else type(exc).__name__
                )
                raise TownsquareError(f"{reason}; the next run resumes here", record=page, permanent=False) from exc
            newest = since
            list_name = self.config.get("list") or url.rstrip("/").rsplit("/", 1)[-1]
            for record in self._read([Path(m.filepath) for m in archive.mboxes], list_name):
                if isinstance(record, MessageRecord) and record.created_at and record.created_at > newest:
                    newest = record.created_at
                yield record
            month = newest.astimezone(dt.UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            yield Checkpoint({"from_date:message": month.timestamp()})
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _read(self, files: list[Path], list_name: str) -> Iterator[Record]:
        channel = ChannelRef(
            external_id=list_name, name=list_name, url=self.config.get("archive_url") or self.config.get("url") or ""
        )
        parser = HeaderParser(policy=compat32)
        threads = ThreadRoots(self.source)
        total = sum(f.stat().st_size for f in files)
        done = 0
        for file in files:
            for lineno, raw in split_messages(file):
                where = f"{file.name}:{lineno}"
                if not FROM_LINE.match(raw.split(b"\n", 1)[0].rstrip(b"\r")):
                    if raw.strip():
                        yield RecordError(record=where, reason="text before the first message (not an mbox From_ line)")
                    continue
                text = decode_mail(raw)
                head, _, body = text.partition("\n\n")
                headers = parser.parsestr(head.split("\n", 1)[1] if "\n" in head else "")
                message_id = _MSGID.search(headers.get("Message-ID", "") or "")
                if message_id is None:
                    yield RecordError(record=where, reason="no Message-ID header")
                    continue
                try:
                    created = email.utils.parsedate_to_datetime(headers.get("Date", ""))
                except (TypeError, ValueError, IndexError):
                    created = None
                if created is None:
                    asctime = head.split("\n", 1)[0].split("  ", 1)[-1].strip()
                    try:
                        created = dt.datetime.strptime(asctime, "%a %b %d %H:%M:%S %Y").replace(tzinfo=dt.UTC)
                    except ValueError:
                        yield RecordError(record=where, reason="unreadable Date header and From_ line")
                        continue
                if created.tzinfo is None:
                    created = created.replace(tzinfo=dt.UTC)
                sender = _header(headers.get("From"))
                references = _MSGID.findall(headers.get("References", "") or "")
                reply_to = _MSGID.search(headers.get("In-Reply-To", "") or "")
                parent = reply_to.group(1) if reply_to else (references[-1] if references else "")
                yield MessageRecord(
                    external_id=message_id.group(1),
                    kind="email",
                    created_at=created,
                    channel=channel,
                    author=_author(sender),
                    title=_header(headers.get("Subject")),
                    body=body.rstrip("\n"),
                    url=self._url(file),
                    thread_external_id=threads.root(message_id.group(1), parent, references),
                    parent_external_id=parent,
                )
            done += file.stat().st_size
            self.progress = (done, total)

    def _url(self, file: Path) -> str:
        base = (self.config.get("archive_url") or self.config.get("url") or "").rstrip("/")
        if not base:
            return ""
        return f"{base}/{file.name.split('.txt')[0]}/thread.html"


class ThreadRoots:
    """Finds a mail's thread root by walking up its parent chain, not by trusting ``References[0]``.

    Clients shorten ``References`` (or send only ``In-Reply-To``), so the first reference is often a
    mid-thread message: taken at face value it splits one conversation into several threads. A parent
    read earlier in this run, or stored by an earlier run, already knows its root.
    """

    def __init__(self, source: Any) -> None:
        self.source = source
        self.roots: dict[str, str] = {}

    def root(self, message_id: str, parent: str, references: list[str]) -> str:
        for known in (parent, *references):
            if known and known in self.roots:
                root = self.roots[known]
                break
        else:
            root = self._stored_root(parent) or (references[0] if references else (parent or message_id))
        self.roots[message_id] = root
        return root

    def _stored_root(self, parent: str) -> str:
        if not parent or self.source is None or self.source.pk is None:
            return ""
        from townsquare.sources.models import Message

        stored = (
            Message.objects.filter(source=self.source, external_id=parent)
            .values_list("thread_external_id", flat=True)
            .first()
        )
        return stored or ""


def _author(sender: str) -> IdentityRef | None:
    if not sender:
        return None
    name_match = _PAREN_NAME.search(sender)
    name = name_match.group(1).strip() if name_match else ""
    plain = _PLAIN_AT.match(sender)
    if plain:
        address = f"{plain.group(1)}@{plain.group(2)}".lower()
        return IdentityRef(
            realm="email", external_id=address, handle=address, display_name=name or address, email=address
        )
    if not name:
        name, address = email.utils.parseaddr(sender)
        if address and "@" in address:
            return IdentityRef(
                realm="email", external_id=address.lower(), handle=address, display_name=name or address, email=address
            )
    # Obfuscated beyond repair: the whole header is the key.
    return IdentityRef(
        realm="pipermail",
        external_id=" ".join(sender.lower().split()),
        handle=sender.split("(")[0].strip(),
        display_name=name or sender,
    )
