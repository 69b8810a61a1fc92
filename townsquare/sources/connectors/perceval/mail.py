"""Mailing lists and news: mbox, HyperKitty, groups.io and NNTP share one reading of a mail."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

from townsquare.core.errors import TownsquareError
from townsquare.sources.connectors._util import html_to_text, repair_utf8_lines
from townsquare.sources.connectors.base import ChannelRef, MessageRecord, Record, RecordError, from_epoch
from townsquare.sources.connectors.perceval.base import API_URL_HELP, CLIENTS, PercevalConnector
from townsquare.sources.connectors.pipermail import ThreadRoots
from townsquare.sources.connectors.pipermail import _author as mail_author


class _MailConnector(PercevalConnector):
    categories = ("message",)
    _threads: ThreadRoots | None = None

    def records(self, data: dict[str, Any], category: str) -> Iterator[Record]:
        headers = {k.lower(): v for k, v in data.items() if isinstance(v, str)}
        message_id = (headers.get("message-id") or headers.get("message_id") or "").strip().strip("<>")
        if not message_id:
            raise ValueError("no Message-ID")
        sender = headers.get("from") or ""
        references = [r.strip("<>") for r in (headers.get("references") or "").split() if r.startswith("<")]
        parent = (headers.get("in-reply-to") or "").strip().strip("<>").split(">")[0]
        body = data.get("body") or {}
        text = body.get("plain") if isinstance(body, dict) else str(body)
        text = repair_utf8_lines(text or "", _part_charset(headers.get("content-type") or ""))
        html_body = body.get("html") if isinstance(body, dict) else ""
        name = self.config.get("list") or self.source.name
        archived = (headers.get("archived-at") or "").strip().strip("<>")
        if self._threads is None:
            self._threads = ThreadRoots(self.source)
        yield MessageRecord(
            external_id=self.external_id(headers, message_id),
            kind="email",
            created_at=mail_date(headers.get("date")),
            channel=ChannelRef(external_id=name, name=name, url=self.list_url()),
            author=mail_author(sender),
            title=headers.get("subject") or "",
            body=text or html_to_text(html_body or ""),
            body_html=html_body or "",
            url=archived or self.message_url(message_id, text or ""),
            thread_external_id=self._threads.root(message_id, parent, references),
            parent_external_id=parent,
        )

    def external_id(self, headers: dict[str, str], message_id: str) -> str:
        return message_id

    def list_url(self) -> str:
        return self.config.get("url", "")

    def message_url(self, message_id: str, text: str) -> str:
        return ""

    def checkpoint(self, item: dict[str, Any], category: str) -> dict[str, Any]:
        # Mail dates are the senders' clocks, not the archive's order: resume at the start of the
        # month (archives are monthly), never past the last message read.
        when = from_epoch(item["updated_on"])
        start = when.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        return {f"from_date:{category}": start.timestamp()}


_CHARSET = re.compile(r'(?i)charset="?([\w.:-]+)')


def _part_charset(content_type: str) -> str:
    """The charset Perceval decoded a single-part mail with; multipart parts carry their own labels."""
    if content_type.lower().lstrip().startswith("multipart/"):
        return ""
    found = _CHARSET.search(content_type)
    return found.group(1) if found else ""


def mail_date(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class MBoxConnector(_MailConnector):
    kind = "mbox"
    is_archive = True
    backend = "perceval.backends.core.mbox.MBox"
    settings_help = {
        "path": "an mbox file (plain, .gz, .bz2 or .zip) or a folder of them",
        "list": "list name shown as the channel",
    }

    def backend_args(self) -> dict[str, Any]:
        # Perceval reads a single file as well as a folder: a file must not pull in its neighbours.
        return {"uri": self.config.get("list") or self.source.name, "dirpath": str(self.require_path())}


class HyperKittyConnector(_MailConnector):
    kind = "hyperkitty"
    backend = "perceval.backends.core.hyperkitty.HyperKitty"
    required = ("url",)
    settings_help = {
        "url": "the list's archive, e.g. https://mail.python.org/archives/list/python-dev@python.org/",
        "start": "first month to read, YYYY-MM (HyperKitty cannot tell; Perceval asks month by month from 1970)",
    }

    def backend_args(self) -> dict[str, Any]:
        return {"url": self.config["url"].rstrip("/"), "dirpath": self.work_dir()}

    def from_date(self, cursor: dict[str, Any], category: str) -> dt.datetime | None:
        since = super().from_date(cursor, category)
        if since is None and self.config.get("start"):
            try:
                since = dt.datetime.strptime(str(self.config["start"])[:7], "%Y-%m").replace(tzinfo=dt.UTC)
            except ValueError as exc:
                raise TownsquareError(
                    f"start {self.config['start']!r} is not a month like 2024-01", record=self.source.name
                ) from exc
        return since

    def list_url(self) -> str:
        return f"{self.config['url'].rstrip('/')}/"

    def message_url(self, message_id: str, text: str) -> str:
        # HyperKitty's permalink: the base32 SHA-1 of the Message-ID (HyperKitty's get_message_id_hash).
        digest = base64.b32encode(hashlib.sha1(message_id.encode()).digest()).decode()
        return f"{self.list_url()}message/{digest}/"


class GroupsioConnector(_MailConnector):
    kind = "groupsio"
    backend = f"{CLIENTS}.GroupsioBackend"  # Perceval's Groupsio, with api_url
    required = ("group",)
    settings_help = {
        "group": "the group's name in its URL, e.g. beta for https://groups.io/g/beta",
        "api_url": API_URL_HELP.format(default="https://groups.io/api/v1"),
        "web_url": "the site for links (default https://groups.io)",
    }
    secrets_help = '{"email": "...", "password": "..."} of a member allowed to download the archive'

    def backend_args(self) -> dict[str, Any]:
        secrets = self.secrets()
        return {
            "group_name": self.config["group"],
            "dirpath": self.work_dir(),
            "email": secrets.get("email"),
            "password": secrets.get("password"),
            "api_url": self.config.get("api_url") or None,
        }

    def list_url(self) -> str:
        return f"{(self.config.get('web_url') or 'https://groups.io').rstrip('/')}/g/{self.config['group']}"

    def message_url(self, message_id: str, text: str) -> str:
        # Groups.io appends "View/Reply Online (#123): <link>" to the messages it sends.
        match = re.search(r"https?://\S+/g/[^/\s]+/message/(\d+)", text)
        return f"{self.list_url()}/message/{match.group(1)}" if match else f"{self.list_url()}/topics"


class NNTPConnector(_MailConnector):
    kind = "nntp"
    backend = f"{CLIENTS}.NNTPBackend"  # Perceval's NNTP, with a port
    categories = ("article",)
    required = ("host", "group")
    uses_from_date = False
    settings_help = {
        "host": "news server, e.g. news.gmane.io",
        "group": "newsgroup, e.g. gmane.comp.python.devel",
        "port": "default 119",
        "web_url": 'link per article, e.g. "https://inbox.example.org/{group}/{message_id}/" (default: a news: link)',
    }

    def backend_args(self) -> dict[str, Any]:
        return {"host": self.config["host"], "group": self.config["group"], "port": int(self.config.get("port") or 119)}

    def fetch_args(self, cursor: dict[str, Any], category: str) -> dict[str, Any]:
        return {"offset": int(cursor.get("offset", 1))}

    def checkpoint(self, item: dict[str, Any], category: str) -> dict[str, Any]:
        return {"offset": int(item["offset"]) + 1}

    def external_id(self, headers: dict[str, str], message_id: str) -> str:
        # RFC 5536 Supersedes: the replacement article is an edit of the one it names.
        superseded = (headers.get("supersedes") or "").strip().strip("<>")
        return superseded or message_id

    def list_url(self) -> str:
        return f"news:{self.config['group']}"

    def message_url(self, message_id: str, text: str) -> str:
        template = self.config.get("web_url")
        if template:
            return template.format(group=self.config["group"], message_id=quote(message_id, safe="@"))
        return f"news:{message_id}"

    def skipped(self, backend: Any) -> Iterator[RecordError]:
        client = getattr(backend, "client", None)
        while client is not None and client.failures:
            number, response = client.failures.pop(0)
            yield RecordError(
                record=f"{self.config['group']} article {number}", reason=f"the server refused it: {response}"
            )
