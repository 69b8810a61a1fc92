"""Stack Exchange: questions with their answers and comments."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterator
from typing import Any

from townsquare.people.refs import IdentityRef
from townsquare.sources.connectors._util import html_to_text
from townsquare.sources.connectors.base import ChannelRef, MessageRecord, Record, from_epoch
from townsquare.sources.connectors.perceval.base import API_URL_HELP, CLIENTS, PercevalConnector


class StackExchangeConnector(PercevalConnector):
    kind = "stackexchange"
    backend = f"{CLIENTS}.StackExchangeBackend"  # Perceval's StackExchange, with api_url
    categories = ("question",)
    required = ("site",)
    settings_help = {
        "site": "API site name, e.g. stackoverflow or serverfault",
        "tagged": "only questions with this tag",
        "api_url": API_URL_HELP.format(default="https://api.stackexchange.com"),
        "web_url": "where links point when the API gives none (default https://<site>.com)",
    }
    secrets_help = '{"token": "<app key>", "access_token": "..."}, both optional (a key raises the daily quota)'

    def backend_args(self) -> dict[str, Any]:
        secrets = self.secrets()
        return {
            "site": self.config["site"],
            "tagged": self.config.get("tagged") or None,
            "api_token": secrets.get("token"),
            "access_token": secrets.get("access_token"),
            "max_questions": int(self.config.get("max_questions", 100)),
            "api_url": self.config.get("api_url") or None,
        }

    def records(self, data: dict[str, Any], category: str) -> Iterator[Record]:
        site = self.config["site"]
        realm = f"stackexchange:{site}"
        web = (self.config.get("web_url") or (f"https://{site}.com" if "." not in site else f"https://{site}")).rstrip(
            "/"
        )
        channel = ChannelRef(external_id=site, name=site, url=web)
        thread = f"post:{data['question_id']}"

        def author(owner: dict[str, Any] | None) -> IdentityRef | None:
            if not owner or owner.get("user_id") is None:
                return None
            return IdentityRef(
                realm=realm,
                external_id=str(owner["user_id"]),
                handle=owner.get("display_name") or "",
                display_name=owner.get("display_name") or "",
            )

        def edited(post: dict[str, Any]) -> dt.datetime | None:
            return from_epoch(post["last_edit_date"]) if post.get("last_edit_date") else None

        def comments(post: dict[str, Any], parent: str) -> Iterator[MessageRecord]:
            for comment in post.get("comments") or []:
                yield MessageRecord(
                    external_id=f"comment:{comment['comment_id']}",
                    kind="comment",
                    created_at=from_epoch(comment["creation_date"]),
                    updated_at=edited(comment),
                    channel=channel,
                    author=author(comment.get("owner")),
                    body=html_to_text(comment.get("body") or ""),
                    body_html=comment.get("body") or "",
                    url=comment.get("link") or f"{web}/posts/comments/{comment['comment_id']}",
                    thread_external_id=thread,
                    parent_external_id=parent,
                )

        yield MessageRecord(
            external_id=thread,
            kind="question",
            created_at=from_epoch(data["creation_date"]),
            updated_at=edited(data),
            channel=channel,
            author=author(data.get("owner")),
            title=html.unescape(data.get("title") or ""),
            body=html_to_text(data.get("body") or ""),
            body_html=data.get("body") or "",
            url=data.get("link") or f"{web}/q/{data['question_id']}",
            thread_external_id=thread,
        )
        yield from comments(data, thread)
        for answer in data.get("answers") or []:
            answer_id = f"post:{answer['answer_id']}"
            yield MessageRecord(
                external_id=answer_id,
                kind="answer",
                created_at=from_epoch(answer["creation_date"]),
                updated_at=edited(answer),
                channel=channel,
                author=author(answer.get("owner")),
                body=html_to_text(answer.get("body") or ""),
                body_html=answer.get("body") or "",
                url=answer.get("link") or f"{web}/a/{answer['answer_id']}",
                thread_external_id=thread,
                parent_external_id=thread,
            )
            yield from comments(answer, answer_id)
