"""RSS and Atom feeds: each entry a post."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

from townsquare.people.refs import IdentityRef
from townsquare.sources.connectors._util import html_to_text
from townsquare.sources.connectors.base import ChannelRef, MessageRecord, Record, parse_iso
from townsquare.sources.connectors.perceval.base import PercevalConnector
from townsquare.sources.connectors.perceval.mail import mail_date


class RSSConnector(PercevalConnector):
    kind = "rss"
    backend = "perceval.backends.core.rss.RSS"
    categories = ("entry",)
    required = ("url",)
    settings_help = {"url": "the RSS or Atom feed"}
    uses_from_date = False

    def backend_args(self) -> dict[str, Any]:
        return {"url": self.config["url"]}

    def records(self, data: dict[str, Any], category: str) -> Iterator[Record]:
        url = self.config["url"]
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
