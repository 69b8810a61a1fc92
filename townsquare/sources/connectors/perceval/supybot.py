"""Supybot (Limnoria) IRC logs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from townsquare.people.refs import IdentityRef
from townsquare.sources.connectors.base import ChannelRef, MessageRecord, Record, parse_iso
from townsquare.sources.connectors.irc_log import log_url
from townsquare.sources.connectors.perceval.base import PercevalConnector


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

    def records(self, data: dict[str, Any], category: str) -> Iterator[Record]:
        if str(data.get("type", "")).lower() != "comment":
            return  # joins, quits, nick changes
        import hashlib

        name = self.config.get("channel") or self.source.name
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
