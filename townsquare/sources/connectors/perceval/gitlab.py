"""GitLab: issues and merge requests with their notes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

from townsquare.people.refs import IdentityRef
from townsquare.sources.connectors._util import markdown_to_html
from townsquare.sources.connectors.base import ChannelRef, MessageRecord, Record, parse_iso
from townsquare.sources.connectors.perceval.base import PercevalConnector


class GitLabConnector(PercevalConnector):
    kind = "gitlab"
    backend = "perceval.backends.core.gitlab.GitLab"
    categories = ("issue", "merge_request")
    required = ("owner", "repository")
    settings_help = {
        "owner": "group or user (nested groups: group%2Fsubgroup)",
        "repository": "project name",
        "base_url": "self-managed GitLab, e.g. https://gitlab.example.com (default https://gitlab.com)",
        "categories": '["issue", "merge_request"] (default: issues only)',
        "min_rate_to_sleep": "stop (or sleep, with sleep_for_rate) when RateLimit-Remaining falls to this",
    }
    secrets_help = "a personal access token with read_api"

    def backend_args(self) -> dict[str, Any]:
        return {
            "owner": self.config["owner"],
            "repository": self.config["repository"],
            "api_token": self.secrets().get("token"),
            "base_url": self.config.get("base_url") or None,
            "sleep_for_rate": bool(self.config.get("sleep_for_rate", False)),
            "min_rate_to_sleep": int(self.config.get("min_rate_to_sleep", 10)),
            **self.retry_args(),
        }

    def records(self, data: dict[str, Any], category: str) -> Iterator[Record]:
        parts = urlparse(self.config.get("base_url") or "https://gitlab.com")
        host = parts.hostname or "gitlab.com"
        realm = f"gitlab:{host}"
        path = f"{self.config['owner']}/{self.config['repository']}".replace("%2F", "/")
        channel = ChannelRef(external_id=path, name=path, url=f"{parts.scheme}://{parts.netloc}/{path}")
        prefix = "mr" if category == "merge_request" else "issue"
        thread = f"{prefix}:{data['id']}"

        def author(user: dict[str, Any] | None) -> IdentityRef | None:
            if not user or user.get("id") is None:
                return None
            return IdentityRef(
                realm=realm,
                external_id=str(user["id"]),
                handle=user.get("username") or "",
                display_name=user.get("name") or "",
                is_bot=bool(user.get("bot")),
            )

        body = data.get("description") or ""
        yield MessageRecord(
            external_id=thread,
            kind="pull_request" if prefix == "mr" else "issue",
            created_at=parse_iso(data["created_at"]),
            updated_at=parse_iso(data.get("updated_at")),
            channel=channel,
            author=author(data.get("author")),
            title=f"{'!' if prefix == 'mr' else '#'}{data.get('iid')} {data.get('title') or ''}",
            body=body,
            body_html=markdown_to_html(body),
            url=data.get("web_url") or "",
            thread_external_id=thread,
        )
        for note in data.get("notes_data") or []:
            if note.get("system"):
                continue  # "changed the label", "closed": not conversation
            body = note.get("body") or ""
            yield MessageRecord(
                external_id=f"note:{note['id']}",
                kind="comment",
                created_at=parse_iso(note["created_at"]),
                updated_at=parse_iso(note.get("updated_at")),
                channel=channel,
                author=author(note.get("author")),
                body=body,
                body_html=markdown_to_html(body),
                url=f"{data.get('web_url')}#note_{note['id']}" if data.get("web_url") else "",
                thread_external_id=thread,
                parent_external_id=thread,
            )
