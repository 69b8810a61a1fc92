"""GitHub issue archives written by github-metadata-backup: issues/<n>.json{,.gz} = {type, issue, events}.

Comments are the timeline items with ``"event": "commented"``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from townsquare.core.errors import TownsquareError
from townsquare.people.refs import IdentityRef
from townsquare.sources.connectors._util import BAD_RECORD, markdown_to_html
from townsquare.sources.connectors.archive import json_file_records
from townsquare.sources.connectors.base import (
    ChannelRef,
    Connector,
    MessageRecord,
    Record,
    RecordError,
    parse_iso,
)

REALM = "github"


def github_author(user: dict[str, Any] | None) -> IdentityRef | None:
    if not user or not user.get("id"):
        return None
    return IdentityRef(
        realm=REALM,
        external_id=str(user["id"]),
        handle=user.get("login") or "",
        display_name=user.get("name") or user.get("login") or "",
        is_bot=user.get("type") == "Bot" or str(user.get("login", "")).endswith("[bot]"),
    )


def repo_channel(issue: dict[str, Any]) -> ChannelRef:
    repo_url = issue.get("repository_url") or ""
    full = repo_url.split("/repos/", 1)[-1] if "/repos/" in repo_url else ""
    if not full:
        html_url = issue.get("html_url") or ""
        parts = html_url.split("/")
        full = "/".join(parts[3:5]) if len(parts) > 4 else "github"
    return ChannelRef(external_id=full, name=full, url=f"https://github.com/{full}")


class GitHubArchiveConnector(Connector):
    kind = "github_archive"
    is_archive = True

    def fetch(self, cursor: dict[str, Any]) -> Iterator[Record]:
        root = self.require_path()
        folder = root / "issues" if (root / "issues").is_dir() else root
        files = (
            [root]
            if root.is_file()
            else sorted(
                (p for p in folder.iterdir() if p.name.endswith((".json", ".json.gz")) and p.name != "state.json"),
                key=lambda p: (len(p.name), p.name),
            )
        )
        yield from json_file_records(self, files, issue_records, unreadable=_unreadable_issue_file)


def _unreadable_issue_file(exc: Exception) -> str:
    return f"not a readable issue file: {exc}"


def issue_records(data: Any, where: str) -> Iterator[Record]:
    try:
        issue = data["issue"] if isinstance(data, dict) and "issue" in data else data
        if not isinstance(issue, dict) or "number" not in issue:
            raise TownsquareError("no issue object")
        channel = repo_channel(issue)
        issue_id = f"issue:{issue['id']}"
        body = issue.get("body") or ""
        yield MessageRecord(
            external_id=issue_id,
            kind="pull_request" if issue.get("pull_request") else "issue",
            created_at=parse_iso(issue["created_at"]),
            updated_at=parse_iso(issue.get("updated_at")),
            channel=channel,
            author=github_author(issue.get("user")),
            title=f"#{issue['number']} {issue.get('title') or ''}",
            body=body,
            body_html=markdown_to_html(body),
            url=issue.get("html_url") or "",
            thread_external_id=issue_id,
        )
    except BAD_RECORD + (TownsquareError,) as exc:
        yield RecordError(record=where, reason=f"unreadable issue: {type(exc).__name__}: {exc}")
        return
    for index, event in enumerate(data.get("events") or [] if isinstance(data, dict) else []):
        if not isinstance(event, dict) or event.get("event") != "commented":
            continue
        try:
            body = event.get("body") or ""
            yield MessageRecord(
                external_id=f"comment:{event['id']}",
                kind="comment",
                created_at=parse_iso(event["created_at"]),
                updated_at=parse_iso(event.get("updated_at")),
                channel=channel,
                author=github_author(event.get("user") or event.get("actor")),
                body=body,
                body_html=markdown_to_html(body),
                url=event.get("html_url") or "",
                thread_external_id=issue_id,
                parent_external_id=issue_id,
            )
        except BAD_RECORD as exc:
            yield RecordError(
                record=f"{where} event {index}", reason=f"unreadable comment: {type(exc).__name__}: {exc}"
            )
