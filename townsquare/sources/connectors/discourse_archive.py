"""Discourse topic JSON archives: one ``GET /t/{slug}/{id}.json`` response per file (optionally .gz)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

from townsquare.people.refs import IdentityRef
from townsquare.sources.connectors._util import (
    BAD_RECORD,
    Unreadable,
    files_under,
    guarded,
    html_to_text,
    load_json_file,
)
from townsquare.sources.connectors.base import (
    ChannelRef,
    Connector,
    MessageRecord,
    Record,
    RecordError,
    parse_iso,
)

# Discourse post types (``Post.types``): 1 regular, 2 moderator action, 3 small action ("closed this
# topic", empty ``cooked``), 4 whisper (staff-only). Small actions and whispers are not conversation.
_NOT_CONVERSATION = frozenset({3, 4})


def _is_conversation(post: Any) -> bool:
    """False for small actions and whispers; other shapes are kept so a bad post is reported, not lost."""
    return not (isinstance(post, dict) and post.get("post_type") in _NOT_CONVERSATION)


def topic_records(
    topic: dict[str, Any], *, base: str, realm: str, categories: dict[Any, str], where: str
) -> Iterator[Record]:
    topic_id = topic["id"]
    slug = topic.get("slug") or "topic"
    category = topic.get("category_id")
    channel = ChannelRef(
        external_id=f"category:{category}" if category is not None else "uncategorised",
        name=categories.get(category) or (f"Category {category}" if category is not None else "Uncategorised"),
        url=f"{base}/c/{category}" if base and category is not None else "",
    )
    posts = [p for p in (topic.get("post_stream") or {}).get("posts") or [] if _is_conversation(p)]
    by_number = {p.get("post_number"): p.get("id") for p in posts if isinstance(p, dict)}
    first = by_number.get(1)
    thread = f"post:{first}" if first else f"topic:{topic_id}"
    for post in posts:
        try:
            number = post["post_number"]
            reply_to = by_number.get(post.get("reply_to_post_number"))
            cooked = post.get("cooked") or ""
            yield MessageRecord(
                external_id=f"post:{post['id']}",
                # The solved plugin's accepted answer is an "answer", as in GitHub discussions.
                kind="post" if number == 1 else ("answer" if post.get("accepted_answer") is True else "reply"),
                created_at=parse_iso(post["created_at"]),
                updated_at=parse_iso(post.get("updated_at")),
                channel=channel,
                author=IdentityRef(
                    realm=realm,
                    external_id=str(post["user_id"]),
                    handle=post.get("username") or "",
                    display_name=post.get("name") or post.get("username") or "",
                    is_bot=post.get("user_id", 0) < 0,
                )
                if post.get("user_id") is not None
                else None,
                title=(topic.get("title") or "") if number == 1 else "",
                body=html_to_text(cooked),
                body_html=cooked,
                url=f"{base}/t/{slug}/{topic_id}/{number}" if base else "",
                thread_external_id=thread,
                parent_external_id=f"post:{reply_to}" if reply_to else ("" if number == 1 else thread),
            )
        except BAD_RECORD as exc:
            yield RecordError(
                record=f"{where} post {post.get('id', '?') if isinstance(post, dict) else '?'}",
                reason=f"unreadable post: {type(exc).__name__}: {exc}",
            )


class DiscourseArchiveConnector(Connector):
    kind = "discourse_archive"
    is_archive = True

    def fetch(self, cursor: dict[str, Any]) -> Iterator[Record]:
        files = files_under(self.require_path(), ".json", ".json.gz")
        base = (self.config.get("url") or "").rstrip("/")
        host = urlparse(base).hostname or self.config.get("forum") or self.source.name
        realm = self.config.get("realm") or f"discourse:{host}"
        categories = {int(k) if str(k).isdigit() else k: v for k, v in (self.config.get("categories") or {}).items()}
        for number, file in enumerate(files, start=1):
            self.progress = (number - 1, len(files))
            try:
                topic = load_json_file(file)
            except Unreadable as exc:
                yield RecordError(record=file.name, reason=str(exc))
                continue
            if not isinstance(topic, dict) or "post_stream" not in topic:
                yield RecordError(record=file.name, reason="not a Discourse topic (no post_stream)")
                continue
            topic_records_ = topic_records(topic, base=base, realm=realm, categories=categories, where=file.name)
            yield from guarded(topic_records_, record=file.name)
        self.progress = (len(files), len(files))
