"""RSS and Atom feeds, live or saved to a file: each entry an article."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import feedparser

from townsquare.people.refs import IdentityRef
from townsquare.sources.connectors._util import (
    BAD_RECORD,
    Unreadable,
    files_under,
    html_to_text,
    open_binary,
    read_limited,
)
from townsquare.sources.connectors.base import ChannelRef, Connector, MessageRecord, Record, RecordError, parse_iso
from townsquare.sources.connectors.perceval.base import PercevalConnector
from townsquare.sources.connectors.perceval.mail import mail_date


class RSSConnector(PercevalConnector):
    kind = "rss"
    backend = "perceval.backends.core.rss.RSS"
    categories = ("entry",)
    required = ("url",)
    is_archive = True
    settings_help = {
        "url": "the RSS or Atom feed",
        "path": "instead of url: saved feed files (.xml, .rss, .atom, or a folder of them), or upload them",
    }
    uses_from_date = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.path is None:
            self.is_archive = False  # a live feed, fetched through Perceval
        self.feed_url = self.config.get("url") or ""

    def backend_args(self) -> dict[str, Any]:
        return {"url": self.config["url"]}

    def check(self) -> str:
        return Connector.check(self) if self.is_archive else super().check()

    def fetch(self, cursor: dict[str, Any]) -> Iterator[Record]:
        if not self.is_archive:
            yield from super().fetch(cursor)
            return
        files = files_under(self.require_path(), ".xml", ".rss", ".atom", ".xml.gz", ".rss.gz", ".atom.gz")
        for number, file in enumerate(files, start=1):
            self.progress = (number - 1, len(files))
            try:
                with open_binary(file) as handle:
                    parsed = feedparser.parse(read_limited(handle))
            except Unreadable as exc:
                yield RecordError(record=file.name, reason=str(exc))
                continue
            if not parsed.entries and parsed.get("bozo"):
                yield RecordError(record=file.name, reason=f"not an RSS or Atom feed: {parsed.get('bozo_exception')}")
                continue
            self.feed_url = self.config.get("url") or parsed.feed.get("link") or file.name
            for index, entry in enumerate(parsed.entries, start=1):
                try:
                    yield from self.records(entry, "entry")
                except BAD_RECORD as exc:
                    yield RecordError(record=f"{file.name} entry {index}", reason=f"{type(exc).__name__}: {exc}")
        self.progress = (len(files), len(files))

    def records(self, data: dict[str, Any], category: str) -> Iterator[Record]:
        url = self.feed_url
        feed = urlparse(url).hostname or url
        author_name = data.get("author") or ""
        summary = data.get("summary") or data.get("description") or ""
        content = (data.get("content") or [{}])[0].get("value") if data.get("content") else ""
        # dict.get: feedparser's own get() maps updated->published with a DeprecationWarning
        updated = dict.get(data, "updated")
        published = dict.get(data, "published") or updated
        yield MessageRecord(
            external_id=data.get("id") or data["link"],
            kind="article",
            created_at=mail_date(published) or parse_iso(published),
            updated_at=mail_date(updated) if updated and updated != published else None,
            channel=ChannelRef(external_id=url, name=feed, url=url),
            author=IdentityRef(
                realm=f"rss:{feed}", external_id=author_name.lower(), handle=author_name, display_name=author_name
            )
            if author_name
            else None,
            title=data.get("title") or "",
            body=html_to_text(content or summary),
            body_html=content or summary,
            url=data.get("link") or "",
        )
