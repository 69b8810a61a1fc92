"""Supybot (Limnoria) IRC logs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cached_property
from typing import Any

from townsquare.people.refs import IdentityRef
from townsquare.sources.connectors.base import ChannelRef, MessageRecord, Record, parse_iso
from townsquare.sources.connectors.irc_log import log_url
from townsquare.sources.connectors.perceval.base import PercevalConnector

_CHANNEL_FILE = re.compile(r"^([#&][^\s./]+)(\.\d{4}-\d\d-\d\d\.log)?$")


class SupybotConnector(PercevalConnector):
    kind = "supybot"
    is_archive = True
    backend = "perceval.backends.core.supybot.Supybot"
    categories = ("message",)
    settings_help = {
        "path": "a folder of Supybot/Limnoria ChannelLogger files",
        "channel": "e.g. #widgets",
        "network": "e.g. libera.chat",
        "url_template": "where the day's log is published, e.g. https://logs.example.org/{channel}/{year}-{month}-{day}.log",
    }

    def backend_args(self) -> dict[str, Any]:
        path = self.require_path()
        return {
            "uri": self.config.get("channel") or self.source.name,
            "dirpath": str(path if path.is_dir() else path.parent),
        }

    @cached_property
    def channel_name(self) -> str:
        """The channel as the archive names it: ChannelLogger writes ``#chan/#chan.YYYY-MM-DD.log``.

        An upload's folder is a random id, so the file name is asked first; the source's name is the last resort.
        """
        configured = self.config.get("channel")
        if configured:
            return str(configured)
        path = self.path
        if path is not None:
            files = [path] if path.is_file() else sorted(p for p in path.iterdir() if p.is_file())[:1]
            for candidate in [*(f.name for f in files), self.folder_name(path if path.is_dir() else path.parent)]:
                found = _CHANNEL_FILE.match(candidate)
                if found:
                    return found.group(1)
        return self.source.name

    def records(self, data: dict[str, Any], category: str) -> Iterator[Record]:
        if str(data.get("type", "")).lower() != "comment":
            return  # joins, quits, nick changes
        import hashlib

        name = self.channel_name
        network = self.config.get("network") or "irc"
        nick = data["nick"]
        body = data.get("body") or ""
        key = hashlib.sha1(f"{data['timestamp']}\x1f{nick}\x1f{data.get('body')}".encode()).hexdigest()
        created = parse_iso(data["timestamp"])
        yield MessageRecord(
            external_id=key,
            kind="chat",
            created_at=created,
            channel=ChannelRef(external_id=name.lower(), name=name),
            author=IdentityRef(realm=f"irc:{network}", external_id=nick.lower(), handle=nick, display_name=nick),
            body=body,
            url=log_url(self.config.get("url_template") or "", created.date(), name) if created else "",
        )
