"""GitHub Discussions saved from the GraphQL API: ``repository.discussions.nodes`` with comments and replies.

A path is one JSON response or a directory of pages. Authors with a ``databaseId``
share the identity of the GitHub issues connectors; others are keyed by login.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from townsquare.people.refs import IdentityRef
from townsquare.sources.connectors._util import BAD_RECORD, files_under, get, html_to_text, markdown_to_html
from townsquare.sources.connectors.archive import json_file_records
from townsquare.sources.connectors.base import (
    ChannelRef,
    Connector,
    MessageRecord,
    Record,
    RecordError,
    parse_iso,
)


def _author(node: dict[str, Any] | None) -> IdentityRef | None:
    if not node or not node.get("login"):
        return None
    bot = node.get("__typename") == "Bot" or node["login"].endswith("[bot]")
    if node.get("databaseId"):
        return IdentityRef(
            realm="github",
            external_id=str(node["databaseId"]),
            handle=node["login"],
            display_name=node.get("name") or node["login"],
            is_bot=bot,
        )
    return IdentityRef(
        realm="github:login",
        external_id=node["login"].lower(),
        handle=node["login"],
        display_name=node.get("name") or node["login"],
        is_bot=bot,
    )


class GitHubDiscussionsConnector(Connector):
    kind = "github_discussions"
    is_archive = True

    def fetch(self, cursor: dict[str, Any]) -> Iterator[Record]:
        yield from json_file_records(self, files_under(self.require_path(), ".json", ".json.gz"), self._page)

    def _page(self, data: Any, where: str) -> Iterator[Record]:
        """One saved GraphQL response: a page of a repository's discussions."""
        if isinstance(data, dict) and data.get("errors") and not data.get("data"):
            yield RecordError(record=where, reason=f"GraphQL errors: {data['errors']}"[:500])
            return
        repo = get(data, "data", "repository", default={})
        nodes = get(repo, "discussions", "nodes", default=None)
        if nodes is None:
            yield RecordError(record=where, reason="no data.repository.discussions.nodes")
            return
        full = repo.get("nameWithOwner") or self.config.get("repository") or ""
        for discussion in nodes:
            yield from self._discussion(discussion, full, where)

    def _discussion(self, node: dict[str, Any], repo: str, where: str) -> Iterator[Record]:
        try:
            category = get(node, "category", "name", default="General")
            channel = ChannelRef(
                external_id=f"{repo}:{category}",
                name=f"{repo} · {category}" if repo else category,
                url=f"https://github.com/{repo}/discussions" if repo else "",
            )
            thread = f"discussion:{node['id']}"
            yield MessageRecord(
                external_id=thread,
                kind="question" if get(node, "category", "isAnswerable") else "post",
                created_at=parse_iso(node["createdAt"]),
                updated_at=parse_iso(node.get("updatedAt")),
                channel=channel,
                author=_author(node.get("author")),
                title=f"#{node.get('number', '')} {node.get('title') or ''}".strip(),
                body=node.get("body") or html_to_text(node.get("bodyHTML") or ""),
                body_html=node.get("bodyHTML") or markdown_to_html(node.get("body") or ""),
                url=node.get("url") or "",
                thread_external_id=thread,
            )
        except BAD_RECORD as exc:
            yield RecordError(
                record=f"{where} discussion {node.get('id', '?') if isinstance(node, dict) else '?'}",
                reason=f"unreadable discussion: {type(exc).__name__}: {exc}",
            )
            return
        answer = get(node, "answer", "id", default="")
        for comment in get(node, "comments", "nodes", default=[]):
            yield from self._comment(comment, channel, thread, thread, answer, where)
            for reply in get(comment, "replies", "nodes", default=[]):
                yield from self._comment(reply, channel, thread, f"comment:{comment.get('id')}", answer, where)

    def _comment(
        self, node: dict[str, Any], channel: ChannelRef, thread: str, parent: str, answer: str, where: str
    ) -> Iterator[Record]:
        try:
            yield MessageRecord(
                external_id=f"comment:{node['id']}",
                kind="answer" if node["id"] == answer else "comment",
                created_at=parse_iso(node["createdAt"]),
                updated_at=parse_iso(node.get("updatedAt")),
                channel=channel,
                author=_author(node.get("author")),
                body=node.get("body") or html_to_text(node.get("bodyHTML") or ""),
                body_html=node.get("bodyHTML") or markdown_to_html(node.get("body") or ""),
                url=node.get("url") or "",
                thread_external_id=thread,
                parent_external_id=parent,
            )
        except BAD_RECORD as exc:
            yield RecordError(
                record=f"{where} comment {node.get('id', '?') if isinstance(node, dict) else '?'}",
                reason=f"unreadable comment: {type(exc).__name__}: {exc}",
            )
