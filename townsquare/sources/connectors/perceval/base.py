"""One adapter from Perceval (GrimoireLab) backends to our records: the part every kind shares.

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
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from django.conf import settings
from django.utils.module_loading import import_string

from townsquare.core.errors import TownsquareError
from townsquare.sources.connectors.base import Checkpoint, Connector, Record, RecordError, from_epoch, parse_iso
from townsquare.sources.connectors.perceval.clients import tracking

CLIENTS = "townsquare.sources.connectors.perceval.clients"
API_URL_HELP = "another API base URL: a proxy, or a self-hosted compatible server (default: {default})"


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
    _work_dir: str = ""  # made on first use by ``work_dir``, removed by ``cleanup``

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
        except TownsquareError as exc:
            # Some APIs put the token in the path (Telegram's /bot<token>/...): never store it in a run's error.
            scrub = self._without_secrets
            raise TownsquareError(
                scrub(exc.message),
                record=scrub(str(exc.record)) if exc.record is not None else None,
                permanent=exc.permanent,
            ) from exc
        finally:
            self.cleanup()

    def _without_secrets(self, text: str) -> str:
        for value in self.secrets().values():
            if isinstance(value, str) and len(value) >= 6:
                text = text.replace(value, "[secret]")
        return text

    def _fetch_category(self, backend: Any, cursor: dict[str, Any], category: str) -> Iterator[Record]:
        kwargs: dict[str, Any] = {"category": category}
        # An archive is read whole: each record's upsert then says whether it is new, updated or unchanged.
        # A date cursor would have the backend skip an uploaded file's older records without a count.
        if self.uses_from_date and not self.is_archive:
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
        if self._work_dir:
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
        if not self._work_dir:
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


def epoch_or_iso(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):
        return from_epoch(value / 1000 if value > 10_000_000_000 else value)
    return parse_iso(str(value))
