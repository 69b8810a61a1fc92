"""GitHub: issues and pull requests with their comments."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from townsquare.people.refs import IdentityRef
from townsquare.sources.connectors._util import markdown_to_html
from townsquare.sources.connectors.base import MessageRecord, Record, parse_iso
from townsquare.sources.connectors.github_archive import github_author, repo_channel
from townsquare.sources.connectors.perceval.base import PercevalConnector


class GitHubConnector(PercevalConnector):
    kind = "github"
    backend = "perceval.backends.core.github.GitHub"
    categories = ("issue", "pull_request")
    required = ("owner", "repository")
    settings_help = {
        "owner": "e.g. django",
        "repository": "e.g. django",
        "base_url": "GitHub Enterprise, e.g. https://github.example.com (default https://api.github.com)",
        "categories": '["issue", "pull_request"] (default: issues only)',
    }
    secrets_help = "a token (fine-grained, read-only: issues, pull requests)"

    def backend_args(self) -> dict[str, Any]:
        token = self.secrets().get("token")
        return {
            "owner": self.config["owner"],
            "repository": self.config["repository"],
            "api_token": [token] if token else [],
            "base_url": self.config.get("base_url") or None,
            "sleep_for_rate": bool(self.config.get("sleep_for_rate", False)),
            "min_rate_to_sleep": int(self.config.get("min_rate_to_sleep", 10)),
            **self.retry_args(),
        }

    def records(self, data: dict[str, Any], category: str) -> Iterator[Record]:
        issue_id = f"issue:{data['id']}"
        channel = repo_channel(data)
        user = data.get("user_data") or data.get("user")
        body = data.get("body") or ""
        yield MessageRecord(
            external_id=issue_id,
            kind="pull_request" if category == "pull_request" or data.get("pull_request") else "issue",
            created_at=parse_iso(data["created_at"]),
            updated_at=parse_iso(data.get("updated_at")),
            channel=channel,
            author=_github_user(user),
            title=f"#{data['number']} {data.get('title') or ''}",
            body=body,
            body_html=markdown_to_html(body),
            url=data.get("html_url") or "",
            thread_external_id=issue_id,
        )
        for comment in (data.get("comments_data") or []) + (data.get("review_comments_data") or []):
            body = comment.get("body") or ""
            yield MessageRecord(
                external_id=f"comment:{comment['id']}",
                kind="comment",
                created_at=parse_iso(comment["created_at"]),
                updated_at=parse_iso(comment.get("updated_at")),
                channel=channel,
                author=_github_user(comment.get("user_data") or comment.get("user")),
                body=body,
                body_html=markdown_to_html(body),
                url=comment.get("html_url") or "",
                thread_external_id=issue_id,
                parent_external_id=issue_id,
            )


def _github_user(user: dict[str, Any] | None) -> IdentityRef | None:
    author = github_author(user)
    if author is not None and user and user.get("email"):
        author.email = user["email"]  # public profile address: not verified by us
    return author
