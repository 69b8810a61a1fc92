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

import base64
import datetime as dt
import hashlib
import html
import json
import logging
import re
import shutil
import tempfile
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl, quote, urlencode, urlparse, urlsplit, urlunsplit

import requests
from django.conf import settings
from django.utils.module_loading import import_string

from townsquare.core.errors import TownsquareError
from townsquare.people.refs import IdentityRef
from townsquare.sources.connectors._util import html_to_text, markdown_to_html
from townsquare.sources.connectors.base import (
    ChannelRef,
    Checkpoint,
    Connector,
    MessageRecord,
    Record,
    RecordError,
    from_epoch,
    parse_iso,
)
from townsquare.sources.connectors.discourse_archive import topic_records
from townsquare.sources.connectors.github_archive import github_author, repo_channel
from townsquare.sources.connectors.irc_log import log_url
from townsquare.sources.connectors.perceval_clients import tracking
from townsquare.sources.connectors.pipermail import _author as mail_author

logger = logging.getLogger(__name__)
_CLIENTS = "townsquare.sources.connectors.perceval_clients"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class PercevalConnector(Connector):
    backend: ClassVar[str] = ""
    categories: ClassVar[tuple[str, ...]] = ()
    required: ClassVar[tuple[str, ...]] = ()  # config keys
    uses_from_date: ClassVar[bool] = True
    # Perceval yields items oldest-updated first for most backends. Chat backends page backwards
    # from the newest message: their cursor may only move once the whole category was read.
    oldest_first: ClassVar[bool] = True
    # One line per setting for the source form's help: {key: meaning}.
    settings_help: ClassVar[dict[str, str]] = {}
    secrets_help: ClassVar[str] = ""

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

    def backend_class(self) -> type:
        return import_string(self.backend)

    def _backend(self) -> Any:
        missing = [key for key in self.required if not self.config.get(key)]
        if missing:
            raise TownsquareError(f"missing setting(s): {', '.join(missing)}", record=self.source.name)
        try:
            return tracking(self.backend_class())(**self.backend_args())
        except (TypeError, ValueError) as exc:
            raise TownsquareError(f"bad settings: {exc}", record=self.source.name) from exc
        except Exception as exc:  # Perceval's BackendError for settings it refuses (e.g. a token without a user)
            if type(exc).__module__.startswith("perceval"):
                raise TownsquareError(f"bad settings: {exc}", record=self.source.name) from exc
            raise

    def fetch(self, cursor: dict[str, Any]) -> Iterator[Record]:
        backend = self._backend()
        try:
            for category in self.selected_categories():
                yield from self._fetch_category(backend, cursor, category)
        finally:
            self.cleanup()

    def _fetch_category(self, backend: Any, cursor: dict[str, Any], category: str) -> Iterator[Record]:
        kwargs: dict[str, Any] = {"category": category}
        if self.uses_from_date:
            since = self.from_date(cursor, category)
            if since is not None:
                kwargs["from_date"] = since
        kwargs.update(self.fetch_args(cursor, category))
        count = 0
        newest: dict[str, Any] = {}
        try:
            for item in backend.fetch(**kwargs):
                count += 1
                self.progress = (count, 0)
                data = item.get("data") or {}
                try:
                    yield from self.records(data, item.get("category") or category)
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    yield RecordError(
                        record=f"{category} {item.get('search_fields', {}).get('item_id') or item.get('uuid')}",
                        reason=f"unreadable item: {type(exc).__name__}: {exc}",
                    )
                yield from self.skipped(backend)
                point = self.checkpoint(item, category)
                if self.oldest_first:
                    yield Checkpoint(point)
                else:
                    newest = {key: max(value, newest.get(key, value)) for key, value in point.items()}
            yield from self.skipped(backend)
        except TownsquareError:
            raise
        except json.JSONDecodeError as exc:
            # The parse fails far from the request: the page is the last one the client fetched.
            raise TownsquareError(
                f"malformed response from the server (not JSON: {exc}); the next run resumes here",
                record=_page(exc, getattr(backend, "last_url", "") or self.source.name),
                permanent=False,
            ) from exc
        except requests.RequestException as exc:
            response = getattr(exc, "response", None)
            reason = (
                f"HTTP {response.status_code} {response.reason or ''}".rstrip() + _server_says(response)
                if response is not None
                else f"{type(exc).__name__}: {_redact(str(exc))}"
            )
            raise TownsquareError(
                f"{reason}; the next run resumes here", record=_page(exc, self.source.name), permanent=False
            ) from exc
        except (OSError, EOFError) as exc:  # sockets of non-HTTP backends (NNTP)
            raise TownsquareError(
                f"connection failed: {type(exc).__name__}: {exc}; the next run resumes here",
                record=self.source.name,
                permanent=False,
            ) from exc
        except (
            Exception
        ) as exc:  # Perceval's own errors (RateLimitError, BackendError...) share no base we can import safely
            if type(exc).__module__.startswith(("perceval", "grimoirelab_toolkit", "nntplib")):
                raise TownsquareError(
                    f"{type(exc).__name__}: {_redact(str(exc))}; the next run resumes here",
                    record=_page(exc, self.source.name),
                    permanent=False,
                ) from exc
            raise
        if newest:
            yield Checkpoint(newest)

    def from_date(self, cursor: dict[str, Any], category: str) -> dt.datetime | None:
        """Where a run starts: the cursor, less ``lookback_hours`` (re-reads recent edits the API lists by creation)."""
        value = cursor.get(f"from_date:{category}")
        if not value:
            return None
        return from_epoch(value) - dt.timedelta(hours=float(self.config.get("lookback_hours") or 0))

    def fetch_args(self, cursor: dict[str, Any], category: str) -> dict[str, Any]:
        return {}

    def checkpoint(self, item: dict[str, Any], category: str) -> dict[str, Any]:
        return {f"from_date:{category}": item["updated_on"]}

    def skipped(self, backend: Any) -> Iterator[RecordError]:
        """Records the backend skipped on its own (it only logs them): reported as errors."""
        return iter(())

    def cleanup(self) -> None:
        if getattr(self, "_work_dir", None):
            shutil.rmtree(self._work_dir, ignore_errors=True)
            self._work_dir = ""

    def check(self) -> str:
        try:
            backend = self._backend()
            return f"{type(backend).__name__} backend configured for {backend.origin}"
        finally:
            self.cleanup()

    def work_dir(self) -> str:
        """A fresh directory for the files a backend downloads (mbox archives); removed after the run."""
        if not getattr(self, "_work_dir", None):
            base = Path(settings.DATA_DIR) / "perceval" / str(self.source.pk or "new")
            base.mkdir(parents=True, exist_ok=True)
            self._work_dir = tempfile.mkdtemp(prefix="run-", dir=base)
        return self._work_dir

    def retry_args(self) -> dict[str, Any]:
        return {
            "max_retries": int(self.config.get("max_retries", 5)),
            "sleep_time": float(self.config.get("sleep_time", 1)),
        }


def _redact(text: str) -> str:
    # requests messages may carry URLs with tokens in the query string
    return text.split("?", 1)[0] if any(word in text.lower() for word in ("token", "key=", "password")) else text


def _server_says(response: requests.Response) -> str:
    """The API's own error message (``error_message``, ``message`` or ``error`` in a JSON body), if any."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    said = next((body[key] for key in ("error_message", "message", "error") if isinstance(body.get(key), str)), "")
    return f": {said[:200]}" if said else ""


_SECRET_PARAMS = ("token", "key", "password", "secret", "signature")


def _page(exc: BaseException, default: str) -> str:
    """The URL of the page that failed, without secret query parameters; ``default`` when the error names none."""
    response = getattr(exc, "response", None)
    request = getattr(exc, "request", None)
    url = (response.url if response is not None else None) or (request.url if request is not None else None) or default
    if not url.startswith(("http://", "https://")):
        return url
    parts = urlsplit(url)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not any(word in k.lower() for word in _SECRET_PARAMS)
    ]
    return urlunsplit(parts._replace(query=urlencode(query)))


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


# ---------------------------------------------------------------- forums and Q&A


class DiscourseConnector(PercevalConnector):
    kind = "discourse"
    backend = "perceval.backends.core.discourse.Discourse"
    categories = ("topic",)
    required = ("url",)
    settings_help = {
        "url": "the forum, e.g. https://forum.example.com",
        "categories_names": '{"4": "Help"}: names for category ids (optional)',
    }
    secrets_help = '{"token": "...", "api_username": "..."}; none for a public forum'

    def backend_args(self) -> dict[str, Any]:
        secrets = self.secrets()
        return {
            "url": self.config["url"].rstrip("/"),
            "api_username": secrets.get("api_username") or None,
            "api_token": secrets.get("token") or None,
            **self.retry_args(),
        }

    def records(self, data: dict[str, Any], category: str) -> Iterator[Record]:
        base = self.config["url"].rstrip("/")
        realm = self.config.get("realm") or f"discourse:{urlparse(base).hostname}"
        categories = {
            int(k) if str(k).isdigit() else k: v for k, v in (self.config.get("categories_names") or {}).items()
        }
        yield from topic_records(data, base=base, realm=realm, categories=categories, where=f"topic {data.get('id')}")


_API_URL_HELP = "another API base URL: a proxy, or a self-hosted compatible server (default: {default})"


class StackExchangeConnector(PercevalConnector):
    kind = "stackexchange"
    backend = f"{_CLIENTS}.StackExchangeBackend"  # Perceval's StackExchange, with api_url
    categories = ("question",)
    required = ("site",)
    settings_help = {
        "site": "API site name, e.g. stackoverflow or serverfault",
        "tagged": "only questions with this tag",
        "api_url": _API_URL_HELP.format(default="https://api.stackexchange.com"),
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


# ---------------------------------------------------------------- mailing lists and news


class _MailConnector(PercevalConnector):
    categories = ("message",)

    def records(self, data: dict[str, Any], category: str) -> Iterator[Record]:
        headers = {k.lower(): v for k, v in data.items() if isinstance(v, str)}
        message_id = (headers.get("message-id") or headers.get("message_id") or "").strip().strip("<>")
        if not message_id:
            raise ValueError("no Message-ID")
        sender = headers.get("from") or ""
        references = [r.strip("<>") for r in (headers.get("references") or "").split() if r.startswith("<")]
        parent = (headers.get("in-reply-to") or "").strip().strip("<>").split(">")[0]
        body = data.get("body") or {}
        text = body.get("plain") if isinstance(body, dict) else str(body)
        html_body = body.get("html") if isinstance(body, dict) else ""
        name = self.config.get("list") or self.source.name
        archived = (headers.get("archived-at") or "").strip().strip("<>")
        yield MessageRecord(
            external_id=self.external_id(headers, message_id),
            kind="email",
            created_at=_mail_date(headers.get("date")),
            channel=ChannelRef(external_id=name, name=name, url=self.list_url()),
            author=mail_author(sender),
            title=headers.get("subject") or "",
            body=text or html_to_text(html_body or ""),
            body_html=html_body or "",
            url=archived or self.message_url(message_id, text or ""),
            thread_external_id=references[0] if references else (parent or message_id),
            parent_external_id=parent,
        )

    def external_id(self, headers: dict[str, str], message_id: str) -> str:
        return message_id

    def list_url(self) -> str:
        return self.config.get("url", "")

    def message_url(self, message_id: str, text: str) -> str:
        return ""

    def checkpoint(self, item: dict[str, Any], category: str) -> dict[str, Any]:
        # Mail dates are the senders' clocks, not the archive's order: resume at the start of the
        # month (archives are monthly), never past the last message read.
        when = from_epoch(item["updated_on"])
        start = when.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        return {f"from_date:{category}": start.timestamp()}


def _mail_date(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class MBoxConnector(_MailConnector):
    kind = "mbox"
    is_archive = True
    backend = "perceval.backends.core.mbox.MBox"
    settings_help = {
        "path": "an mbox file (plain, .gz, .bz2 or .zip) or a folder of them",
        "list": "list name shown as the channel",
    }

    def backend_args(self) -> dict[str, Any]:
        # Perceval reads a single file as well as a folder: a file must not pull in its neighbours.
        return {"uri": self.config.get("list") or self.source.name, "dirpath": str(self.require_path())}


class HyperKittyConnector(_MailConnector):
    kind = "hyperkitty"
    backend = "perceval.backends.core.hyperkitty.HyperKitty"
    required = ("url",)
    settings_help = {
        "url": "the list's archive, e.g. https://mail.python.org/archives/list/python-dev@python.org/",
        "start": "first month to read, YYYY-MM (HyperKitty cannot tell; Perceval asks month by month from 1970)",
    }

    def backend_args(self) -> dict[str, Any]:
        return {"url": self.config["url"].rstrip("/"), "dirpath": self.work_dir()}

    def from_date(self, cursor: dict[str, Any], category: str) -> dt.datetime | None:
        since = super().from_date(cursor, category)
        if since is None and self.config.get("start"):
            try:
                since = dt.datetime.strptime(str(self.config["start"])[:7], "%Y-%m").replace(tzinfo=dt.UTC)
            except ValueError as exc:
                raise TownsquareError(
                    f"start {self.config['start']!r} is not a month like 2024-01", record=self.source.name
                ) from exc
        return since

    def list_url(self) -> str:
        return f"{self.config['url'].rstrip('/')}/"

    def message_url(self, message_id: str, text: str) -> str:
        # HyperKitty's permalink: the base32 SHA-1 of the Message-ID (HyperKitty's get_message_id_hash).
        digest = base64.b32encode(hashlib.sha1(message_id.encode()).digest()).decode()
        return f"{self.list_url()}message/{digest}/"


class GroupsioConnector(_MailConnector):
    kind = "groupsio"
    backend = f"{_CLIENTS}.GroupsioBackend"  # Perceval's Groupsio, with api_url
    required = ("group",)
    settings_help = {
        "group": "the group's name in its URL, e.g. beta for https://groups.io/g/beta",
        "api_url": _API_URL_HELP.format(default="https://groups.io/api/v1"),
        "web_url": "the site for links (default https://groups.io)",
    }
    secrets_help = '{"email": "...", "password": "..."} of a member allowed to download the archive'

    def backend_args(self) -> dict[str, Any]:
        secrets = self.secrets()
        return {
            "group_name": self.config["group"],
            "dirpath": self.work_dir(),
            "email": secrets.get("email"),
            "password": secrets.get("password"),
            "api_url": self.config.get("api_url") or None,
        }

    def list_url(self) -> str:
        return f"{(self.config.get('web_url') or 'https://groups.io').rstrip('/')}/g/{self.config['group']}"

    def message_url(self, message_id: str, text: str) -> str:
        # Groups.io appends "View/Reply Online (#123): <link>" to the messages it sends.
        match = re.search(r"https?://\S+/g/[^/\s]+/message/(\d+)", text)
        return f"{self.list_url()}/message/{match.group(1)}" if match else f"{self.list_url()}/topics"


class NNTPConnector(_MailConnector):
    kind = "nntp"
    backend = f"{_CLIENTS}.NNTPBackend"  # Perceval's NNTP, with a port
    categories = ("article",)
    required = ("host", "group")
    uses_from_date = False
    settings_help = {
        "host": "news server, e.g. news.gmane.io",
        "group": "newsgroup, e.g. gmane.comp.python.devel",
        "port": "default 119",
        "web_url": 'link per article, e.g. "https://inbox.example.org/{group}/{message_id}/" (default: a news: link)',
    }

    def backend_args(self) -> dict[str, Any]:
        return {"host": self.config["host"], "group": self.config["group"], "port": int(self.config.get("port") or 119)}

    def fetch_args(self, cursor: dict[str, Any], category: str) -> dict[str, Any]:
        return {"offset": int(cursor.get("offset", 1))}

    def checkpoint(self, item: dict[str, Any], category: str) -> dict[str, Any]:
        return {"offset": int(item["offset"]) + 1}

    def external_id(self, headers: dict[str, str], message_id: str) -> str:
        # RFC 5536 Supersedes: the replacement article is an edit of the one it names.
        superseded = (headers.get("supersedes") or "").strip().strip("<>")
        return superseded or message_id

    def list_url(self) -> str:
        return f"news:{self.config['group']}"

    def message_url(self, message_id: str, text: str) -> str:
        template = self.config.get("web_url")
        if template:
            return template.format(group=self.config["group"], message_id=quote(message_id, safe="@"))
        return f"news:{message_id}"

    def skipped(self, backend: Any) -> Iterator[RecordError]:
        client = getattr(backend, "client", None)
        while client is not None and client.failures:
            number, response = client.failures.pop(0)
            yield RecordError(
                record=f"{self.config['group']} article {number}", reason=f"the server refused it: {response}"
            )


# ---------------------------------------------------------------- chat


class SlackConnector(PercevalConnector):
    kind = "slack"
    backend = f"{_CLIENTS}.SlackBackend"  # Perceval's Slack, with api_url
    categories = ("message",)
    required = ("channel",)
    oldest_first = False
    settings_help = {
        "channel": "conversation id, e.g. C0123ABCD",
        "workspace_url": "e.g. https://acme.slack.com, for links back",
        "api_url": _API_URL_HELP.format(default="https://slack.com") + ", e.g. Slack Enterprise Grid",
        "lookback_hours": "re-read this many hours before the cursor, to catch edits (default 0)",
    }
    secrets_help = "a bot token (xoxb-...) with channels:history, channels:read and users:read"

    def backend_args(self) -> dict[str, Any]:
        return {
            "channel": self.config["channel"],
            "api_token": self.secrets().get("token"),
            "api_url": self.config.get("api_url") or None,
        }

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
            external_id=f"{channel_id}:{ts}",
            kind="chat",
            created_at=from_epoch(ts),
            updated_at=from_epoch(data["edited"]["ts"]) if (data.get("edited") or {}).get("ts") else None,
            channel=ChannelRef(
                external_id=channel_id,
                name=f"#{info.get('name') or channel_id}",
                url=f"{base}/archives/{channel_id}" if base else "",
            ),
            author=IdentityRef(
                realm=f"slack:{team}" if team else "slack",
                external_id=user.get("id") or data.get("user") or "",
                handle=user.get("name") or "",
                display_name=user.get("real_name") or user.get("name") or "",
                email=profile.get("email") or "",
                email_verified=bool(profile.get("email")),
                is_bot=bool(user.get("is_bot")),
            )
            if (user.get("id") or data.get("user"))
            else None,
            body=data.get("text") or "",
            url=f"{base}/archives/{channel_id}/p{ts.replace('.', '')}" if base else "",
            thread_external_id=f"{channel_id}:{data['thread_ts']}" if data.get("thread_ts") else "",
            parent_external_id=f"{channel_id}:{data['thread_ts']}"
            if data.get("thread_ts") and data["thread_ts"] != ts
            else "",
        )


class GitterConnector(PercevalConnector):
    kind = "gitter"
    backend = f"{_CLIENTS}.GitterBackend"  # Perceval's Gitter, with api_url
    categories = ("message",)
    required = ("group", "room")
    oldest_first = False
    settings_help = {
        "group": "e.g. jupyterlab",
        "room": "e.g. jupyterlab",
        "api_url": _API_URL_HELP.format(default="https://api.gitter.im/v1"),
        "web_url": "where links point (default https://gitter.im)",
    }
    secrets_help = "a personal access token"

    def backend_args(self) -> dict[str, Any]:
        return {
            "group": self.config["group"],
            "room": self.config["room"],
            "api_token": self.secrets().get("token"),
            "sleep_for_rate": bool(self.config.get("sleep_for_rate", False)),
            "min_rate_to_sleep": int(self.config.get("min_rate_to_sleep", 10)),
            "api_url": self.config.get("api_url") or None,
        }

    def records(self, data: dict[str, Any], category: str) -> Iterator[Record]:
        room = f"{self.config['group']}/{self.config['room']}"
        web = (self.config.get("web_url") or "https://gitter.im").rstrip("/")
        user = data.get("fromUser") or {}
        yield MessageRecord(
            external_id=data["id"],
            kind="chat",
            created_at=parse_iso(data["sent"]),
            updated_at=parse_iso(data.get("editedAt")),
            channel=ChannelRef(external_id=room, name=room, url=f"{web}/{room}"),
            author=IdentityRef(
                realm="gitter",
                external_id=user["id"],
                handle=user.get("username") or "",
                display_name=user.get("displayName") or "",
            )
            if user.get("id")
            else None,
            body=data.get("text") or "",
            body_html=data.get("html") or "",
            url=f"{web}/{room}?at={data['id']}",
            parent_external_id=data.get("parentId") or "",
            thread_external_id=data.get("parentId") or "",
        )


class MattermostConnector(PercevalConnector):
    kind = "mattermost"
    backend = "perceval.backends.core.mattermost.Mattermost"
    categories = ("post",)
    required = ("url", "channel")
    oldest_first = False
    settings_help = {
        "url": "the server, e.g. https://chat.example.com",
        "channel": "channel id (or its name, with team)",
        "team": "team name, when channel is a name",
        "lookback_hours": "re-read this many hours before the cursor, to catch edits",
    }
    secrets_help = "a personal access token (or a bot account's)"

    def backend_args(self) -> dict[str, Any]:
        channel = self.config["channel"]
        # Perceval looks a channel up by name only when given a team; an id (26 characters) needs none.
        by_name = not re.fullmatch(r"[a-z0-9]{26}", channel)
        return {
            "url": self.config["url"].rstrip("/"),
            "channel": channel,
            "team": self.config.get("team") if by_name else None,
            # Mattermost limits requests per second (X-Ratelimit-Limit: 10 by default) and its reset header
            # counts seconds, not a date: Perceval's default (stop below 10 left) would stop every run.
            "api_token": self.secrets().get("token"),
            "sleep_for_rate": bool(self.config.get("sleep_for_rate", True)),
            "min_rate_to_sleep": int(self.config.get("min_rate_to_sleep", 1)),
            "sleep_time": float(self.config.get("sleep_time", 1)),
        }

    def records(self, data: dict[str, Any], category: str) -> Iterator[Record]:
        if data.get("type"):  # system_join_channel and friends
            return
        base = self.config["url"].rstrip("/")
        user = data.get("user_data") or {}
        info = data.get("channel_data") or {}
        name = " ".join(filter(None, [user.get("first_name"), user.get("last_name")])) or user.get("username") or ""
        channel_id = data.get("channel_id") or self.config["channel"]
        team = self.config.get("team")
        yield MessageRecord(
            external_id=data["id"],
            kind="chat",
            created_at=_epoch_or_iso(data["create_at"]),
            updated_at=_epoch_or_iso(data.get("edit_at")) if data.get("edit_at") else None,
            channel=ChannelRef(
                external_id=channel_id,
                name=f"~{info.get('name') or channel_id}",
                url=f"{base}/{team}/channels/{info['name']}" if team and info.get("name") else "",
            ),
            author=IdentityRef(
                realm=f"mattermost:{urlparse(base).hostname}",
                external_id=data["user_id"],
                handle=user.get("username") or "",
                display_name=name,
                email=user.get("email") or "",
                is_bot=bool(user.get("is_bot")),
            )
            if data.get("user_id")
            else None,
            body=data.get("message") or "",
            body_html=markdown_to_html(data.get("message") or ""),
            url=f"{base}/{team}/pl/{data['id']}" if team else f"{base}/_redirect/pl/{data['id']}",
            thread_external_id=data.get("root_id") or "",
            parent_external_id=data.get("root_id") or "",
        )


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
            created_at=_mail_date(published) or parse_iso(published),
            updated_at=_mail_date(updated) if updated and updated != published else None,
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
