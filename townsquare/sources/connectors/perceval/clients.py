"""Perceval backends and clients, subclassed where a source needs more than Perceval's constructor offers.

* ``api_url``: Perceval's Slack, Gitter, Stack Exchange and groups.io clients hard-code their
  API host. :class:`Rehosted` sends the requests meant for that host to another base URL (a
  proxy, Slack Enterprise Grid, a self-hosted compatible server) through an adapter mounted on
  *that client's own* requests session: nothing global changes, so sources syncing side by
  side in other threads are unaffected. Perceval still builds every URL, pages and retries.
* ``port``: Perceval's NNTP client always dials port 119.
* Page tracking: :func:`tracking` remembers the last URL a backend's client fetched, so a
  malformed page (which fails in ``json.loads``, far from the request) can be named.
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from collections.abc import Iterator
from functools import cache
from typing import Any, ClassVar

import requests
from perceval.backends.core.gitter import Gitter, GitterClient
from perceval.backends.core.groupsio import Groupsio, GroupsioClient
from perceval.backends.core.slack import Slack, SlackClient
from perceval.backends.core.stackexchange import StackExchange, StackExchangeClient
from perceval.backends.core.telegram import Telegram, TelegramBotClient
from perceval.errors import RateLimitError

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # Perceval's NNTP imports nntplib (deprecated in 3.11)
    import nntplib

    from perceval.backends.core.nntp import NNTP, NNTTPClient


class _Rehost(requests.adapters.BaseAdapter):
    """Rewrites ``prefix`` to ``target`` and hands the request to the session's adapter for the new URL."""

    def __init__(self, session: requests.Session, prefix: str, target: str) -> None:
        super().__init__()
        self.session = session
        self.prefix = prefix
        self.target = target

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        # A copy: the session files cookies under the URL it asked for, as if no proxy were there.
        rewritten = request.copy()
        rewritten.url = self.target + (request.url or "")[len(self.prefix) :]
        return self.session.get_adapter(rewritten.url).send(rewritten, **kwargs)

    def close(self) -> None:
        pass


class Rehosted:
    """Mixin for a Perceval client: requests to ``DEFAULT_API`` go to ``api_url`` instead (when given)."""

    DEFAULT_API: ClassVar[str] = ""

    def __init__(self, *args: Any, api_url: str | None = None, **kwargs: Any) -> None:
        self._api_url = (api_url or "").rstrip("/")
        super().__init__(*args, **kwargs)

    @property
    def session(self) -> requests.Session | None:
        return self.__dict__.get("_session")

    @session.setter
    def session(self, value: requests.Session | None) -> None:
        # Perceval's clients create their session in __init__ (HttpClient._create_http_session,
        # GroupsioClient.__init__): mounting here covers every request, the login included.
        target = f"{self._api_url}/"
        if value is not None and self._api_url and target != self.DEFAULT_API:
            value.mount(self.DEFAULT_API, _Rehost(value, self.DEFAULT_API, target))
        self.__dict__["_session"] = value


class WithApiUrl:
    """Mixin for a Perceval backend: keeps ``api_url`` for the client it makes."""

    def __init__(self, *args: Any, api_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.api_url = api_url


# ---------------------------------------------------------------- Slack


class SlackAPIClient(Rehosted, SlackClient):
    DEFAULT_API = "https://slack.com/"
    RCONVERSATION_REPLIES = "conversations.replies"

    def replies(self, channel: str, ts: str) -> Iterator[dict[str, Any]]:
        """A thread's messages (conversations.replies), following ``next_cursor``; the parent comes first."""
        params: dict[str, Any] = {self.PCHANNEL: channel, "ts": ts, "limit": self.max_items}
        while True:
            page = json.loads(self._fetch(self.RCONVERSATION_REPLIES, params))
            yield from page.get("messages") or []
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not page.get("has_more") or not cursor:
                return
            params["cursor"] = cursor


class SlackBackend(WithApiUrl, Slack):
    """Perceval's Slack, plus thread replies: conversations.history lists only a thread's first message."""

    def fetch_items(self, category: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        for message in super().fetch_items(category, **kwargs):
            yield message
            if not message.get("reply_count") or message.get("thread_ts") != message.get("ts"):
                continue
            for reply in self.client.replies(self.channel, message["ts"]):
                if reply.get("ts") == message["ts"] or reply.get("subtype") == "thread_broadcast":
                    continue  # the parent, and broadcasts history already listed
                user = reply.get("user")
                if user:
                    if user not in self._users:
                        self._users[user] = self.parse_user(self.client.user(user))
                    reply["user_data"] = self._users[user]
                reply["channel_info"] = message["channel_info"]
                yield reply

    def _init_client(self, from_archive: bool = False) -> SlackAPIClient:
        return SlackAPIClient(
            self.api_token, self.max_items, self.archive, from_archive, self.ssl_verify, api_url=self.api_url
        )


# ---------------------------------------------------------------- Gitter


class GitterAPIClient(Rehosted, GitterClient):
    DEFAULT_API = "https://api.gitter.im/v1/"


class GitterBackend(WithApiUrl, Gitter):
    def _init_client(self, from_archive: bool = False) -> GitterAPIClient:
        return GitterAPIClient(
            self.api_token,
            self.max_items,
            self.archive,
            self.sleep_for_rate,
            self.min_rate_to_sleep,
            from_archive,
            self.ssl_verify,
            api_url=self.api_url,
        )


# ---------------------------------------------------------------- Telegram


class TelegramAPIClient(Rehosted, TelegramBotClient):
    DEFAULT_API = "https://api.telegram.org/"


class TelegramBackend(WithApiUrl, Telegram):
    def _init_client(self, from_archive: bool = False) -> TelegramAPIClient:
        return TelegramAPIClient(self.bot_token, self.archive, from_archive, self.ssl_verify, api_url=self.api_url)


# ---------------------------------------------------------------- Stack Exchange


class StackExchangeAPIClient(Rehosted, StackExchangeClient):
    """Also stops before a request the daily quota cannot pay for (Perceval only logs ``quota_remaining``)."""

    DEFAULT_API = "https://api.stackexchange.com/"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.quota_remaining: int | None = None
        super().__init__(*args, **kwargs)

    def fetch(
        self,
        url: str,
        payload: Any = None,
        headers: Any = None,
        method: str = "GET",
        stream: bool = False,
        auth: Any = None,
    ) -> requests.Response:
        if self.quota_remaining is not None and self.quota_remaining <= 0:
            now = dt.datetime.now(dt.UTC)
            midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
            raise RateLimitError(
                cause="Stack Exchange API quota exhausted (quota_remaining is 0)",
                seconds_to_reset=int((midnight - now).total_seconds()),
            )
        response = super().fetch(url, payload, headers, method, stream, auth)
        try:
            quota = response.json().get("quota_remaining")
        except ValueError:
            quota = None  # Perceval reports the malformed page itself
        if isinstance(quota, int):
            self.quota_remaining = quota
        return response


class StackExchangeBackend(WithApiUrl, StackExchange):
    def _init_client(self, from_archive: bool = False) -> StackExchangeAPIClient:
        return StackExchangeAPIClient(
            self.site,
            self.tagged,
            self.api_token,
            self.access_token,
            self.max_questions,
            self.archive,
            from_archive,
            self.ssl_verify,
            api_url=self.api_url,
        )


# ---------------------------------------------------------------- groups.io


class GroupsioAPIClient(Rehosted, GroupsioClient):
    DEFAULT_API = "https://groups.io/api/v1/"


class GroupsioBackend(WithApiUrl, Groupsio):
    def fetch_items(self, category: str, **kwargs: Any) -> Any:
        # Groupsio.fetch_items, with the client built with api_url (Perceval names its class inline).
        from_date = kwargs["from_date"]
        mailing_list = GroupsioAPIClient(
            self.group_name, self.dirpath, self.email, self.password, self.ssl_verify, api_url=self.api_url
        )
        mailing_list.fetch(from_date)
        yield from self._fetch_and_parse_messages(mailing_list, from_date)


# ---------------------------------------------------------------- NNTP


class NNTPPortClient(NNTTPClient):
    """Dials ``port`` (Perceval's client always uses 119) and notes the articles the server refused.

    Perceval logs and skips an article the server will not give (e.g. ``430 No such article``);
    ``failures`` keeps (article number, server response) so the run can report them.
    """

    def __init__(
        self, host: str, port: int, archive: Any = None, from_archive: bool = False, timeout: float = 60
    ) -> None:
        # NNTTPClient.__init__ opens nntplib.NNTP(host) on the default port; this is the same with a port.
        self.host = host
        self.port = port
        self.archive = archive
        self.from_archive = from_archive
        self.failures: list[tuple[Any, str]] = []
        if not from_archive:
            self.handler = nntplib.NNTP(host, port, timeout=timeout)

    def quit(self) -> None:
        # Called from __del__ too: a connection that never opened, or already dropped, has nothing to close.
        handler = getattr(self, "handler", None)
        if handler is not None:
            try:
                handler.quit()
            except (OSError, EOFError, nntplib.NNTPError):
                pass

    def article(self, article_id: Any) -> Any:
        try:
            return super().article(article_id)
        except nntplib.NNTPTemporaryError as exc:
            self.failures.append((article_id, str(exc.response)))
            raise


class NNTPBackend(NNTP):
    def __init__(self, host: str, group: str, port: int = 119, **kwargs: Any) -> None:
        super().__init__(host, group, **kwargs)
        self.port = port

    def _init_client(self, from_archive: bool = False) -> NNTPPortClient:
        return NNTPPortClient(self.host, self.port, self.archive, from_archive)


# ---------------------------------------------------------------- page tracking


@cache
def tracking(backend_class: type[Any]) -> type[Any]:
    """A subclass of ``backend_class`` whose client records ``last_url`` on the backend after each response."""

    def _init_client(self: Any, from_archive: bool = False) -> Any:
        client = backend_class._init_client(self, from_archive)
        session = getattr(client, "session", None)
        if isinstance(session, requests.Session):
            session.hooks["response"].append(lambda response, *args, **kwargs: setattr(self, "last_url", response.url))
        return client

    return type(backend_class.__name__, (backend_class,), {"_init_client": _init_client, "last_url": ""})
