"""One adapter from Perceval (GrimoireLab) backends to our records.

Each connector names a backend class, maps ``source.config``/``source.secrets`` to the
backend's constructor arguments, and converts one Perceval item (``item["data"]``) to
records. Perceval yields items oldest-updated first, so after each item the adapter
yields a checkpoint ``{"from_date:<category>": item["updated_on"]}``: a later run asks
the backend for items updated since then (Perceval's ``from_date`` is inclusive, so the
last item is re-read and found unchanged, never lost).

Network failures, rate-limit exhaustion and malformed pages end the run with a
TownsquareError (``permanent=False``); records committed before stay, and the next run
resumes at the checkpoint.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlparse

import requests
from django.conf import settings
from django.utils.module_loading import import_string

from townsquare.core.errors import TownsquareError
from townsquare.sources.connectors._util import html_to_text, markdown_to_html
from townsquare.sources.connectors.base import (
    AuthorRef, Checkpoint, ChannelRef, Connector, MessageRecord, Record, RecordError, from_epoch, parse_iso,
)
from townsquare.sources.connectors.discourse_archive import topic_records
from townsquare.sources.connectors.github_archive import github_author, repo_channel

logger = logging.getLogger(__name__)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


class PercevalConnector(Connector):
    backend: ClassVar[str] = ""
    categories: ClassVar[tuple[str, ...]] = ()
    required: ClassVar[tuple[str, ...]] = ()  # config keys
    uses_from_date: ClassVar[bool] = True

    def secrets(self) -> dict[str, Any]:
        raw = self.source.secrets or ""
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            return {"token": raw.strip()}
        return value if isinstance(value, dict) else {"token": str(value)}

    def backend_args(self) -> dict[str, Any]:
        raise NotImplementedError

    def records(self, data: dict[str, Any], category: str) -> Iterator[Record]:
        raise NotImplementedError

    def selected_categories(self) -> list[str]:
        chosen = self.config.get("categories") or list(self.categories[:1])
        return [c for c in chosen if c in self.categories] or list(self.categories[:1])

    def _backend(self) -> Any:
        missing = [key for key in self.required if not self.config.get(key)]
        if missing:
            raise TownsquareError(f"missing setting(s): {', '.join(missing)}", record=self.source.name)
        return import_string(self.backend)(**self.backend_args())

    def fetch(self, cursor: dict[str, Any]) -> Iterator[Record]:
        backend = self._backend()
        for category in self.selected_categories():
            key = f"from_date:{category}"
            kwargs: dict[str, Any] = {"category": category}
            if self.uses_from_date and cursor.get(key):
                kwargs["from_date"] = from_epoch(cursor[key])
            kwargs.update(self.fetch_args(cursor, category))
            count = 0
            try:
                for item in backend.fetch(**kwargs):
                    count += 1
                    self.progress = (count, 0)
                    data = item.get("data") or {}
                    try:
                        yield from self.records(data, item.get("category") or category)
                    except (KeyError, TypeError, ValueError, AttributeError) as exc:
                        yield RecordError(record=f"{category} {item.get('search_fields', {}).get('item_id') or item.get('uuid')}",
                                          reason=f"unreadable item: {type(exc).__name__}: {exc}")
                    yield Checkpoint(self.checkpoint(item, category))
            except TownsquareError:
                raise
            except json.JSONDecodeError as exc:
                raise TownsquareError(f"malformed response from the server (not JSON: {exc}); "
                                      "the next run resumes here", record=self.source.name, permanent=False) from exc
            except requests.RequestException as exc:
                response = getattr(exc, "response", None)
                status = f"HTTP {response.status_code} " if response is not None else ""
                raise TownsquareError(f"{status}{type(exc).__name__}: {_redact(str(exc))}; the next run resumes here",
                                      record=self.source.name, permanent=False) from exc
            except Exception as exc:  # Perceval's own errors (RateLimitError, BackendError...) share no base we can import safely
                if type(exc).__module__.startswith(("perceval", "grimoirelab_toolkit")):
                    raise TownsquareError(f"{type(exc).__name__}: {_redact(str(exc))}", record=self.source.name,
                                          permanent=False) from exc
                raise

    def fetch_args(self, cursor: dict[str, Any], category: str) -> dict[str, Any]:
        return {}

    def checkpoint(self, item: dict[str, Any], category: str) -> dict[str, Any]:
        return {f"from_date:{category}": item["updated_on"]}

    def check(self) -> str:
        backend = self._backend()
        return f"{type(backend).__name__} backend configured for {backend.origin}"

    def work_dir(self) -> str:
        path = Path(settings.DATA_DIR) / "perceval" / str(self.source.pk or "new")
        path.mkdir(parents=True, exist_ok=True)
        return str(path)

    def retry_args(self) -> dict[str, Any]:
        return {"max_retries": int(self.config.get("max_retries", 5)), "sleep_time": float(self.config.get("sleep_time", 1))}


def _redact(text: str) -> str:
    # requests messages may carry URLs with tokens in the query string
    return text.split("?", 1)[0] if "token" in text.lower() else text


def _epoch_or_iso(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):
        return from_epoch(value / 1000 if value > 10_000_000_000 else value)
    return parse_iso(str(value))


# ---------------------------------------------------------------- code hosts


class GitHubConnector(PercevalConnector):
    kind = "github"
    backend = "perceval.backends.core.github.GitHub"
    categories = ("issue", "pull_request")
    required = ("owner", "repository")

    def backend_args(self) -> dict[str, Any]:
        token = self.secrets().get("token")
        return {
            "owner": self.config["owner"], "repository": self.config["repository"],
            "api_token": [token] if token else [], "base_url": self.config.get("base_url") or None,
            "sleep_for_rate": bool(self.config.get("sleep_for_rate", False)),
            "min_rate_to_sleep": int(self.config.get("min_rate_to_sleep", 10)), **self.retry_args(),
        }

    def records(self, data: dict[str, Any], category: str) -> Iterator[Record]:
        issue_id = f"issue:{data['id']}"
        channel = repo_channel(data)
        user = data.get("user_data") or data.get("user")
        body = data.get("body") or ""
        yield MessageRecord(
            external_id=issue_id, kind="pull_request" if category == "pull_request" or data.get("pull_request") else "issue",
            created_at=parse_iso(data["created_at"]), updated_at=parse_iso(data.get("updated_at")), channel=channel,
            author=_github_user(user), title=f"#{data['number']} {data.get('title') or ''}", body=body,
            body_html=markdown_to_html(body), url=data.get("html_url") or "", thread_external_id=issue_id,
        )
        for comment in (data.get("comments_data") or []) + (data.get("review_comments_data") or []):
            body = comment.get("body") or ""
            yield MessageRecord(
                external_id=f"comment:{comment['id']}", kind="comment", created_at=parse_iso(comment["created_at"]),
                updated_at=parse_iso(comment.get("updated_at")), channel=channel,
                author=_github_user(comment.get("user_data") or comment.get("user")), body=body,
                body_html=markdown_to_html(body), url=comment.get("html_url") or "",
                thread_external_id=issue_id, parent_external_id=issue_id,
            )


def _github_user(user: dict[str, Any] | None) -> AuthorRef | None:
    author = github_author(user)
    if author is not None and user and user.get("email"):
        author.email = user["email"]  # public profile address: not verified by us
    return author


class GitLabConnector(PercevalConnector):
    kind = "gitlab"
    backend = "perceval.backends.core.gitlab.GitLab"
    categories = ("issue", "merge_request")
    required = ("owner", "repository")

    def backend_args(self) -> dict[str, Any]:
        return {"owner": self.config["owner"], "repository": self.config["repository"],
                "api_token": self.secrets().get("token"), "base_url": self.config.get("base_url") or None,
                "sleep_for_rate": bool(self.config.get("sleep_for_rate", False)), **self.retry_args()}

    def records(self, data: dict[str, Any], category: str) -> Iterator[Record]:
        host = urlparse(self.config.get("base_url") or "https://gitlab.com").hostname or "gitlab.com"
        realm = f"gitlab:{host}"
        path = f"{self.config['owner']}/{self.config['repository']}"
        channel = ChannelRef(external_id=path, name=path, url=f"https://{host}/{path}")
        prefix = "mr" if category == "merge_request" else "issue"
        thread = f"{prefix}:{data['id']}"

        def author(user: dict[str, Any] | None) -> AuthorRef | None:
            if not user or user.get("id") is None:
                return None
            return AuthorRef(realm=realm, external_id=str(user["id"]), handle=user.get("username") or "",
                             display_name=user.get("name") or "", is_bot=bool(user.get("bot")))

        body = data.get("description") or ""
        yield MessageRecord(
            external_id=thread, kind="pull_request" if prefix == "mr" else "issue", created_at=parse_iso(data["created_at"]),
            updated_at=parse_iso(data.get("updated_at")), channel=channel, author=author(data.get("author")),
            title=f"{'!' if prefix == 'mr' else '#'}{data.get('iid')} {data.get('title') or ''}", body=body,
            body_html=markdown_to_html(body), url=data.get("web_url") or "", thread_external_id=thread,
        )
        for note in data.get("notes_data") or []:
            if note.get("system"):
                continue  # "changed the label", "closed": not conversation
            body = note.get("body") or ""
            yield MessageRecord(
                external_id=f"note:{note['id']}", kind="comment", created_at=parse_iso(note["created_at"]),
                updated_at=parse_iso(note.get("updated_at")), channel=channel, author=author(note.get("author")),
                body=body, body_html=markdown_to_html(body),
                url=f"{data.get('web_url')}#note_{note['id']}" if data.get("web_url") else "",
                thread_external_id=thread, parent_external_id=thread,
            )


# ---------------------------------------------------------------- forums and Q&A


class DiscourseConnector(PercevalConnector):
    kind = "discourse"
    backend = "perceval.backends.core.discourse.Discourse"
    categories = ("topic",)
    required = ("url",)

    def backend_args(self) -> dict[str, Any]:
        secrets = self.secrets()
        return {"url": self.config["url"].rstrip("/"), "api_username": secrets.get("api_username") or None,
                "api_token": secrets.get("token") or None, **self.retry_args()}

    def records(self, data: dict[str, Any], category: str) -> Iterator[Record]:
        base = self.config["url"].rstrip("/")
        realm = self.config.get("realm") or f"discourse:{urlparse(base).hostname}"
        categories = {int(k) if str(k).isdigit() else k: v for k, v in (self.config.get("categories_names") or {}).items()}
        yield from topic_records(data, base=base, realm=realm, categories=categories, where=f"topic {data.get('id')}")


class StackExchangeConnector(PercevalConnector):
    kind = "stackexchange"
    backend = "perceval.backends.core.stackexchange.StackExchange"
    categories = ("question",)
    required = ("site",)

    def backend_args(self) -> dict[str, Any]:
        secrets = self.secrets()
        return {"site": self.config["site"], "tagged": self.config.get("tagged") or None,
                "api_token": secrets.get("token"), "access_token": secrets.get("access_token"),
                "max_questions": int(self.config.get("max_questions", 100))}

    def records(self, data: dict[str, Any], category: str) -> Iterator[Record]:
        site = self.config["site"]
        realm = f"stackexchange:{site}"
        channel = ChannelRef(external_id=site, name=site, url=f"https://{site}.com" if "." not in site else f"https://{site}")
        thread = f"post:{data['question_id']}"

        def author(owner: dict[str, Any] | None) -> AuthorRef | None:
            if not owner or owner.get("user_id") is None:
                return None
            return AuthorRef(realm=realm, external_id=str(owner["user_id"]), handle=owner.get("display_name") or "",
                             display_name=owner.get("display_name") or "")

        yield MessageRecord(
            external_id=thread, kind="question", created_at=from_epoch(data["creation_date"]),
            updated_at=from_epoch(data["last_activity_date"]) if data.get("last_activity_date") else None,
            channel=channel, author=author(data.get("owner")), title=data.get("title") or "",
            body=html_to_text(data.get("body") or ""), body_html=data.get("body") or "", url=data.get("link") or "",
            thread_external_id=thread,
        )
        for answer in data.get("answers") or []:
            yield MessageRecord(
                external_id=f"post:{answer['answer_id']}", kind="answer", created_at=from_epoch(answer["creation_date"]),
                channel=channel, author=author(answer.get("owner")), body=html_to_text(answer.get("body") or ""),
                body_html=answer.get("body") or "", url=answer.get("link") or f"https://{site}.com/a/{answer['answer_id']}",
                thread_external_id=thread, parent_external_id=thread,
            )


# ---------------------------------------------------------------- mailing lists and news


class _MailConnector(PercevalConnector):
    categories = ("message",)

    def records(self, data: dict[str, Any], category: str) -> Iterator[Record]:
        headers = {k.lower(): v for k, v in data.items() if isinstance(v, str)}
        message_id = (headers.get("message-id") or headers.get("message_id") or "").strip().strip("<>")
        if not message_id:
            raise ValueError("no Message-ID")
        sender = headers.get("from") or ""
        from townsquare.sources.connectors.pipermail import _author

        references = [r.strip("<>") for r in (headers.get("references") or "").split() if r.startswith("<")]
        parent = (headers.get("in-reply-to") or "").strip().strip("<>").split(">")[0]
        body = data.get("body") or {}
        text = body.get("plain") if isinstance(body, dict) else str(body)
        html = body.get("html") if isinstance(body, dict) else ""
        name = self.config.get("list") or self.source.name
        yield MessageRecord(
            external_id=message_id, kind="email", created_at=_mail_date(headers.get("date")),
            channel=ChannelRef(external_id=name, name=name, url=self.config.get("url", "")),
            author=_author(sender), title=headers.get("subject") or "", body=text or html_to_text(html or ""),
            body_html=html or "", url=self.message_url(data), thread_external_id=references[0] if references else (parent or message_id),
            parent_external_id=parent,
        )

    def message_url(self, data: dict[str, Any]) -> str:
        return ""


def _mail_date(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


class MBoxConnector(_MailConnector):
    kind = "mbox"
    is_archive = True
    backend = "perceval.backends.core.mbox.MBox"

    def backend_args(self) -> dict[str, Any]:
        path = self.require_path()
        return {"uri": self.config.get("list") or self.source.name, "dirpath": str(path if path.is_dir() else path.parent)}


class HyperKittyConnector(_MailConnector):
    kind = "hyperkitty"
    backend = "perceval.backends.core.hyperkitty.HyperKitty"
    required = ("url",)

    def backend_args(self) -> dict[str, Any]:
        return {"url": self.config["url"], "dirpath": self.work_dir()}


class GroupsioConnector(_MailConnector):
    kind = "groupsio"
    backend = "perceval.backends.core.groupsio.Groupsio"
    required = ("group",)

    def backend_args(self) -> dict[str, Any]:
        secrets = self.secrets()
        return {"group_name": self.config["group"], "dirpath": self.work_dir(), "email": secrets.get("email"),
                "password": secrets.get("password")}


class NNTPConnector(_MailConnector):
    kind = "nntp"
    backend = "perceval.backends.core.nntp.NNTP"
    categories = ("article",)
    required = ("host", "group")
    uses_from_date = False

    def backend_args(self) -> dict[str, Any]:
        return {"host": self.config["host"], "group": self.config["group"]}

    def fetch_args(self, cursor: dict[str, Any], category: str) -> dict[str, Any]:
        return {"offset": int(cursor.get("offset", 1))}

    def checkpoint(self, item: dict[str, Any], category: str) -> dict[str, Any]:
        return {"offset": int(item["offset"]) + 1}


# ---------------------------------------------------------------- chat


class SlackConnector(PercevalConnector):
    kind = "slack"
    backend = "perceval.backends.core.slack.Slack"
    categories = ("message",)
    required = ("channel",)

    def backend_args(self) -> dict[str, Any]:
        return {"channel": self.config["channel"], "api_token": self.secrets().get("token")}

    def records(self, data: dict[str, Any], category: str) -> Iterator[Record]:
        if data.get("subtype") in {"channel_join", "channel_leave", "channel_topic", "channel_purpose", "channel_name"}:
            return
        info = data.get("channel_info") or {}
        channel_id = info.get("id") or self.config["channel"]
        user = data.get("user_data") or {}
        team = user.get("team_id") or self.config.get("team", "")
        profile = user.get("profile") or {}
        ts = data["ts"]
        base = (self.config.get("workspace_url") or "").rstrip("/")
        yield MessageRecord(
            external_id=f"{channel_id}:{ts}", kind="chat", created_at=from_epoch(ts),
            updated_at=from_epoch(data["edited"]["ts"]) if (data.get("edited") or {}).get("ts") else None,
            channel=ChannelRef(external_id=channel_id, name=f"#{info.get('name') or channel_id}"),
            author=AuthorRef(realm=f"slack:{team}" if team else "slack", external_id=user.get("id") or data.get("user") or "",
                             handle=user.get("name") or "", display_name=user.get("real_name") or user.get("name") or "",
                             email=profile.get("email") or "", email_verified=bool(profile.get("email")),
                             is_bot=bool(user.get("is_bot"))) if (user.get("id") or data.get("user")) else None,
            body=data.get("text") or "",
            url=f"{base}/archives/{channel_id}/p{ts.replace('.', '')}" if base else "",
            thread_external_id=f"{channel_id}:{data['thread_ts']}" if data.get("thread_ts") else "",
            parent_external_id=f"{channel_id}:{data['thread_ts']}" if data.get("thread_ts") and data["thread_ts"] != ts else "",
        )


class GitterConnector(PercevalConnector):
    kind = "gitter"
    backend = "perceval.backends.core.gitter.Gitter"
    categories = ("message",)
    required = ("group", "room")

    def backend_args(self) -> dict[str, Any]:
        return {"group": self.config["group"], "room": self.config["room"], "api_token": self.secrets().get("token"),
                **self.retry_args()}

    def records(self, data: dict[str, Any], category: str) -> Iterator[Record]:
        room = f"{self.config['group']}/{self.config['room']}"
        user = data.get("fromUser") or {}
        yield MessageRecord(
            external_id=data["id"], kind="chat", created_at=parse_iso(data["sent"]), updated_at=parse_iso(data.get("editedAt")),
            channel=ChannelRef(external_id=room, name=room, url=f"https://gitter.im/{room}"),
            author=AuthorRef(realm="gitter", external_id=user["id"], handle=user.get("username") or "",
                             display_name=user.get("displayName") or "") if user.get("id") else None,
            body=data.get("text") or "", body_html=data.get("html") or "",
            url=f"https://gitter.im/{room}?at={data['id']}",
            parent_external_id=data.get("parentId") or "", thread_external_id=data.get("parentId") or "",
        )


class MattermostConnector(PercevalConnector):
    kind = "mattermost"
    backend = "perceval.backends.core.mattermost.Mattermost"
    categories = ("post",)
    required = ("url", "channel")

    def backend_args(self) -> dict[str, Any]:
        return {"url": self.config["url"].rstrip("/"), "channel": self.config["channel"],
                "api_token": self.secrets().get("token"), **self.retry_args()}

    def records(self, data: dict[str, Any], category: str) -> Iterator[Record]:
        if data.get("type"):  # system_join_channel and friends
            return
        base = self.config["url"].rstrip("/")
        user = data.get("user_data") or {}
        info = data.get("channel_data") or {}
        name = " ".join(filter(None, [user.get("first_name"), user.get("last_name")])) or user.get("username") or ""
        channel_id = data.get("channel_id") or self.config["channel"]
        yield MessageRecord(
            external_id=data["id"], kind="chat", created_at=_epoch_or_iso(data["create_at"]),
            updated_at=_epoch_or_iso(data.get("edit_at")) if data.get("edit_at") else None,
            channel=ChannelRef(external_id=channel_id, name=f"~{info.get('name') or channel_id}"),
            author=AuthorRef(realm=f"mattermost:{urlparse(base).hostname}", external_id=data["user_id"],
                             handle=user.get("username") or "", display_name=name, email=user.get("email") or "",
                             is_bot=bool(user.get("is_bot"))) if data.get("user_id") else None,
            body=data.get("message") or "", body_html=markdown_to_html(data.get("message") or ""),
            url=f"{base}/_redirect/pl/{data['id']}",
            thread_external_id=data.get("root_id") or "", parent_external_id=data.get("parent_id") or data.get("root_id") or "",
        )


class SupybotConnector(PercevalConnector):
    kind = "supybot"
    is_archive = True
    backend = "perceval.backends.core.supybot.Supybot"
    categories = ("message",)

    def backend_args(self) -> dict[str, Any]:
        path = self.require_path()
        return {"uri": self.config.get("channel") or self.source.name, "dirpath": str(path if path.is_dir() else path.parent)}

    def records(self, data: dict[str, Any], category: str) -> Iterator[Record]:
        if str(data.get("type", "")).lower() != "comment":
            return  # joins, quits, nick changes
        import hashlib

        name = self.config.get("channel") or self.source.name
        network = self.config.get("network") or "irc"
        nick = data["nick"]
        body = data.get("body") or ""
        key = hashlib.sha1(f"{data['timestamp']}\x1f{nick}\x1f{data.get('body')}".encode()).hexdigest()
        yield MessageRecord(
            external_id=key, kind="chat", created_at=parse_iso(data["timestamp"]),
            channel=ChannelRef(external_id=name.lower(), name=name),
            author=AuthorRef(realm=f"irc:{network}", external_id=nick.lower(), handle=nick, display_name=nick), body=body,
        )


class RSSConnector(PercevalConnector):
    kind = "rss"
    backend = "perceval.backends.core.rss.RSS"
    categories = ("entry",)
    required = ("url",)
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
            external_id=data.get("id") or data["link"], kind="article",
            created_at=_mail_date(published) or parse_iso(published),
            updated_at=_mail_date(updated) if updated and updated != published else None,
            channel=ChannelRef(external_id=url, name=feed, url=url),
            author=AuthorRef(realm=f"rss:{feed}", external_id=author_name.lower(), handle=author_name,
                             display_name=author_name) if author_name else None,
            title=data.get("title") or "", body=html_to_text(content or summary), body_html=content or summary,
            url=data.get("link") or "",
        )
