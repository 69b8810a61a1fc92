"""The notification outbox: record in the event's transaction, deliver through Apprise.

Delivery is at-most-once per (event, target): a row is claimed with a conditional
UPDATE before any network call, ``send_started_at`` is committed just before the
call, and only rows whose send never started are retried automatically.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import apprise
from apprise.attachment.memory import AttachMemory
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from townsquare.core import hooks
from townsquare.core.errors import TownsquareError
from townsquare.notify.models import SERVICE_LABELS, Destination, Notification, NotificationAttachment

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

MAX_ERROR_CHARS = 2000


@dataclass(frozen=True)
class Outcome:
    ok: bool
    error: str = ""
    permanent: bool = False


def destination_validate_url(url: str) -> str:
    """Return the scheme of a usable Apprise URL or raise a TownsquareError saying why not."""
    url = url.strip()
    scheme = Destination.scheme_of(url)
    if not scheme:
        raise TownsquareError("not a URL: it should look like slack://… or json://host/path", record="url")
    if scheme not in SERVICE_LABELS:
        raise TownsquareError(
            f"the {scheme}:// service is not supported; use one of {', '.join(sorted(set(SERVICE_LABELS)))}",
            record="url",
        )
    if apprise.Apprise.instantiate(url) is None:
        raise TownsquareError(
            f"Apprise cannot parse this {scheme}:// URL; check its form in the Apprise docs", record="url"
        )
    return scheme


@transaction.atomic
def destination_save(
    *,
    destination: Destination | None = None,
    name: str,
    url: str | None,
    purposes: Sequence[str],
    enabled: bool,
    by: User | None = None,
) -> Destination:
    """Create or update a destination; ``url=None`` on update keeps the stored secret URL."""
    destination = destination or Destination(created_by=by if getattr(by, "pk", None) else None)
    if url is not None or destination.pk is None:
        if not url:
            raise TownsquareError("an Apprise URL is required", record="url")
        destination.service = destination_validate_url(url)
        destination.url = url.strip()
    destination.name = name.strip()
    destination.purposes = sorted(set(purposes))
    destination.enabled = enabled
    destination.save()
    # Apps that held messages for want of a destination (a done announcement) queue them now, in this transaction.
    hooks.destination_saved.call(destination=destination)
    return destination


def _scrub(text: str, secrets: Iterable[str]) -> str:
    """Remove secret URLs (and their path/credential parts) from an error message."""
    for secret in secrets:
        if not secret:
            continue
        text = text.replace(secret, "[redacted]")
        parts = urlsplit(secret)
        for piece in [parts.netloc, parts.path, parts.query, *parts.path.split("/")]:
            if len(piece) >= 8:
                text = text.replace(piece, "[redacted]")
    text = re.sub(r"(?i)\b(token|password|secret|key)=([^&\s]+)", r"\1=[redacted]", text)
    return text[:MAX_ERROR_CHARS]


def email_apprise_url(address: str) -> str:
    if not settings.EMAIL_URL:
        raise TownsquareError("TOWNSQUARE_EMAIL_URL is not set", record=f"email:{address}")
    parts = urlsplit(settings.EMAIL_URL)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("to",)]
    if not any(k == "from" for k, _ in query):
        query.append(("from", settings.EMAIL_FROM))
    query.append(("to", address))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


_clients = threading.local()
_CLIENT_CACHE_SIZE = 64


def _client_for(url: str) -> apprise.Apprise | None:
    """A per-thread Apprise client per URL: parsing the URL and building the client cost more than the send.

    ``async_mode=False``: one service per message, so Apprise's thread pool only adds a hand-off.
    """
    cache: OrderedDict[str, apprise.Apprise] = getattr(_clients, "cache", None) or OrderedDict()
    _clients.cache = cache
    client = cache.get(url)
    if client is None:
        client = apprise.Apprise(asset=apprise.AppriseAsset(async_mode=False))
        if not client.add(url):
            return None
        cache[url] = client
        if len(cache) > _CLIENT_CACHE_SIZE:
            cache.popitem(last=False)
    else:
        cache.move_to_end(url)
    return client


@dataclass(frozen=True)
class Attachment:
    """A file for an email: ``filename`` is also its Content-ID, so the HTML shows it with ``cid:<filename>``."""

    filename: str
    mimetype: str
    content: bytes


_ATTACHMENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
MAX_ATTACHMENT_BYTES = 2_000_000


def _check_attachments(attachments: Sequence[Attachment]) -> None:
    names = [a.filename for a in attachments]
    for attachment in attachments:
        if not _ATTACHMENT_NAME.match(attachment.filename):
            raise TownsquareError(
                "an attachment's name is letters, digits, dots, dashes and underscores", record=attachment.filename
            )
        if len(attachment.content) > MAX_ATTACHMENT_BYTES:
            raise TownsquareError("an attachment is at most 2 MB", record=attachment.filename)
    if len(set(names)) != len(names):
        raise TownsquareError("two attachments have the same name", record=", ".join(sorted(names)))


def _inline_url(url: str) -> str:
    """The email URL asking Apprise to embed image attachments inline (multipart/related, RFC 2387)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "inline"] + [("inline", "yes")]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def send_apprise(
    *, url: str, title: str, body: str, body_format: str, attachments: Sequence[Attachment] = ()
) -> Outcome:
    """Send one message through Apprise and report the outcome without leaking the URL."""
    if attachments:
        url = _inline_url(url)
    client = _client_for(url)
    if client is None:
        return Outcome(ok=False, error="Apprise cannot parse this destination URL", permanent=True)
    formats: dict[str, apprise.NotifyFormat] = {
        Notification.Format.HTML: apprise.NotifyFormat.HTML,
        Notification.Format.MARKDOWN: apprise.NotifyFormat.MARKDOWN,
    }
    fmt = formats.get(body_format, apprise.NotifyFormat.TEXT)
    attach = None
    if attachments:
        attach = apprise.AppriseAttachment()
        for item in attachments:
            attach.add(AttachMemory(content=item.content, name=item.filename, mimetype=item.mimetype))
    with apprise.LogCapture(level=logging.WARNING) as captured:
        ok = client.notify(body=body, title=title, body_format=fmt, attach=attach)
    if ok:
        return Outcome(ok=True)
    log = captured.getvalue().strip() or "the service refused the message"
    return Outcome(ok=False, error=_scrub(log, [url]))


def notification_enqueue(
    *,
    event_key: str,
    title: str,
    body: str,
    purpose: str | None = None,
    destinations: Iterable[Destination] = (),
    emails: Iterable[str] = (),
    body_format: str = Notification.Format.TEXT,
    body_html: str = "",
    link: str = "",
    attachments: Sequence[Attachment] = (),
) -> list[Notification]:
    """Record notifications for an event; call inside the event's transaction.

    Targets are every enabled destination with ``purpose`` plus the explicit
    ``destinations`` and ``emails``. Recording the same ``event_key`` again adds
    nothing for targets that already have it. Delivery is enqueued after commit.
    ``attachments`` go with the emails only (images the HTML body shows through ``cid:``).
    """
    _check_attachments(attachments)
    targets: dict[str, dict[str, object]] = {}
    chosen = list(destinations)
    if purpose:
        chosen += [d for d in Destination.objects.filter(enabled=True) if purpose in d.purposes]
    for destination in chosen:
        targets[f"dest:{destination.pk}"] = {"destination": destination}
    for address in emails:
        address = address.strip().lower()
        if address:
            targets[f"email:{address}"] = {"email": address}
    created = []
    now = timezone.now()
    for target, fields in targets.items():
        try:
            with transaction.atomic():
                notification = Notification.objects.create(
                    event_key=event_key[:200],
                    target=target,
                    title=title[:300],
                    body=body,
                    body_format=body_format,
                    body_html=body_html,
                    link=link,
                    next_attempt_at=now,
                    **fields,
                )
        except IntegrityError:
            continue  # already recorded for this target: one event, one delivery
        if attachments and notification.email:
            NotificationAttachment.objects.bulk_create(
                NotificationAttachment(
                    notification=notification, filename=a.filename, mimetype=a.mimetype, content=a.content
                )
                for a in attachments
            )
        created.append(notification)
        _deliver_after_commit(notification.pk)
    return created


DELIVERY_BATCH = 50
_after_commit = threading.local()


def _deliver_after_commit(notification_id: int) -> None:
    """Collect the transaction's new notifications; after commit, enqueue them in batches of ``DELIVERY_BATCH``.

    One task per notification would spend more on task bookkeeping than on sending, when
    an event fans out (a report to every subscriber) or a backlog builds up.
    """
    connection = transaction.get_connection()
    pending: list[int] | None = getattr(_after_commit, "ids", None)
    # Still valid only while our flush is registered on this transaction (a rollback discards it).
    registered = any(func is _flush_after_commit for _, func, _ in connection.run_on_commit)
    if pending is not None and connection.in_atomic_block and registered:
        pending.append(notification_id)
        return
    _after_commit.ids = [notification_id]
    transaction.on_commit(_flush_after_commit)


def _flush_after_commit() -> None:
    ids: list[int] = getattr(_after_commit, "ids", None) or []
    _after_commit.ids = None
    for start in range(0, len(ids), DELIVERY_BATCH):
        _enqueue_batch(ids[start : start + DELIVERY_BATCH])


def _enqueue_batch(notification_ids: list[int]) -> None:
    from townsquare.notify.tasks import deliver_notifications_task

    try:
        deliver_notifications_task.enqueue(notification_ids)
    except Exception:  # the periodic sweep delivers them if the queue is unreachable now
        logger.warning(
            "notifications %s..: could not enqueue delivery; the sweep will retry", notification_ids[0], exc_info=True
        )


def _enqueue_delivery(notification_id: int, run_after: dt.datetime | None = None) -> None:
    from townsquare.notify.tasks import deliver_notification_task

    if run_after is not None and not deliver_notification_task.get_backend().supports_defer:
        return  # this backend cannot defer: the periodic sweep retries when due
    task = deliver_notification_task if run_after is None else deliver_notification_task.using(run_after=run_after)
    try:
        task.enqueue(notification_id)
    except Exception:  # the periodic sweep delivers it if the queue is unreachable now
        logger.warning(
            "notification %s: could not enqueue delivery; the sweep will retry", notification_id, exc_info=True
        )


def backoff_delay(attempts: int) -> dt.timedelta:
    """Exponential backoff with jitter: base × 2^(attempts-1), capped at six hours."""
    base = settings.NOTIFY_BACKOFF_SECONDS * (2 ** max(attempts - 1, 0))
    return dt.timedelta(seconds=min(base, 6 * 3600) * random.uniform(0.8, 1.2))


def _claim(notification_id: int, now: dt.datetime) -> bool:
    return bool(
        Notification.objects.filter(
            pk=notification_id,
            status__in=[Notification.Status.PENDING, Notification.Status.FAILED, Notification.Status.WAITING],
            next_attempt_at__lte=now,
        ).update(status=Notification.Status.SENDING, claimed_at=now, send_started_at=None, attempts=F("attempts") + 1)
    )


def notification_deliver(*, notification_id: int) -> str:
    """Deliver one notification if it is due; safe to call any number of times. Returns its status."""
    now = timezone.now()
    if not _claim(notification_id, now):
        return Notification.objects.filter(pk=notification_id).values_list("status", flat=True).first() or "missing"
    notification = Notification.objects.select_related("destination").get(pk=notification_id)
    try:
        destination = notification.destination  # fetched with the row (select_related)
        attachments: list[Attachment] = []
        if destination is not None:
            if not destination.enabled:
                raise TownsquareError("the destination is disabled", record=destination.name)
            url = destination.url
            body, fmt = notification.body, notification.body_format
        else:
            if not settings.EMAIL_URL:
                return _hold_for_configuration(notification)
            url = email_apprise_url(notification.email)
            attachments = [
                Attachment(filename=a.filename, mimetype=a.mimetype, content=bytes(a.content))
                for a in notification.attachments.all()
            ]
            body, fmt = (
                (notification.body_html, Notification.Format.HTML)
                if notification.body_html
                else (notification.body, notification.body_format)
            )
    except (TownsquareError, ValueError) as exc:
        return _record_failure(notification, Outcome(ok=False, error=str(exc), permanent=True))

    # Committed before the network call: from here on a crash means "maybe sent".
    Notification.objects.filter(pk=notification.pk).update(send_started_at=timezone.now())
    outcome = send_apprise(url=url, title=notification.title, body=body, body_format=fmt, attachments=attachments)
    if outcome.ok:
        Notification.objects.filter(pk=notification.pk).update(
            status=Notification.Status.SENT, sent_at=timezone.now(), last_error=""
        )
        logger.info("notification %s: sent to %s", notification.pk, notification.target)
        return Notification.Status.SENT
    return _record_failure(notification, outcome)


UNCONFIGURED_RETRY = dt.timedelta(hours=1)


def _hold_for_configuration(notification: Notification) -> str:
    """Email is not configured yet: keep the message as waiting (no attempt counted, nothing failed).

    The sweep releases waiting rows as soon as ``TOWNSQUARE_EMAIL_URL`` is set (see
    :func:`notifications_release_waiting`); until then it looks again every hour.
    """
    Notification.objects.filter(pk=notification.pk).update(
        status=Notification.Status.WAITING,
        attempts=F("attempts") - 1,
        send_started_at=None,
        next_attempt_at=timezone.now() + UNCONFIGURED_RETRY,
        last_error="Waiting for email to be set up (TOWNSQUARE_EMAIL_URL is not set); it is sent once it is.",
    )
    return Notification.Status.WAITING


def notifications_release_waiting() -> int:
    """Once email is set up, every email held for it becomes due now. Returns how many were released."""
    if not settings.EMAIL_URL:
        return 0
    return Notification.objects.filter(status=Notification.Status.WAITING).update(
        status=Notification.Status.PENDING, next_attempt_at=timezone.now(), last_error=""
    )


def _record_failure(notification: Notification, outcome: Outcome) -> str:
    attempts = Notification.objects.get(pk=notification.pk).attempts
    if outcome.permanent or attempts >= settings.NOTIFY_MAX_ATTEMPTS:
        status = Notification.Status.DEAD
        next_at = timezone.now()
    else:
        status = Notification.Status.FAILED
        next_at = timezone.now() + backoff_delay(attempts)
    Notification.objects.filter(pk=notification.pk).update(
        status=status, next_attempt_at=next_at, last_error=outcome.error[:MAX_ERROR_CHARS], send_started_at=None
    )
    logger.warning("notification %s: attempt %s failed (%s)", notification.pk, attempts, status)
    if status == Notification.Status.FAILED:
        _enqueue_delivery(notification.pk, run_after=next_at)
    return status


def notifications_recover_stale(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Settle rows whose worker died: retry those never sent, flag the maybe-sent as uncertain."""
    now = now or timezone.now()
    lease = now - dt.timedelta(seconds=settings.NOTIFY_TIMEOUT_SECONDS * 4 + 60)
    stale = Notification.objects.filter(status=Notification.Status.SENDING, claimed_at__lt=lease)
    retried = stale.filter(send_started_at__isnull=True).update(
        status=Notification.Status.FAILED, next_attempt_at=now, last_error="the worker stopped before sending; retrying"
    )
    uncertain = stale.filter(send_started_at__isnull=False).update(
        status=Notification.Status.UNCERTAIN,
        last_error="the worker stopped while sending: the message may have been delivered. Check the channel, then resend or mark it sent.",
    )
    return {"retried": retried, "uncertain": uncertain}


def notifications_deliver_due(*, limit: int = 500) -> int:
    """The sweep: deliver due rows (also those whose enqueue was lost). Returns how many were tried."""
    recovered = notifications_recover_stale()
    notifications_release_waiting()
    if recovered["uncertain"]:
        logger.warning("%s notifications are uncertain after a worker stopped mid-send", recovered["uncertain"])
    due = list(
        Notification.objects.filter(
            status__in=[Notification.Status.PENDING, Notification.Status.FAILED, Notification.Status.WAITING],
            next_attempt_at__lte=timezone.now(),
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        notification_deliver(notification_id=pk)
    return len(due)


def notification_retry(*, notification: Notification) -> Notification:
    """A person asks for another attempt (dead, failed or uncertain rows): due now, attempts reset."""
    allowed = [Notification.Status.DEAD, Notification.Status.FAILED, Notification.Status.UNCERTAIN]
    updated = Notification.objects.filter(pk=notification.pk, status__in=allowed).update(
        status=Notification.Status.PENDING, attempts=0, next_attempt_at=timezone.now(), send_started_at=None
    )
    if not updated:
        raise TownsquareError(
            f"cannot retry a notification that is {notification.get_status_display().lower()}",
            record=f"notification {notification.pk}",
        )
    transaction.on_commit(partial(_enqueue_delivery, notification.pk))
    notification.refresh_from_db()
    return notification


def notification_mark_sent(*, notification: Notification) -> Notification:
    """A person confirmed an uncertain message did arrive."""
    updated = Notification.objects.filter(pk=notification.pk, status=Notification.Status.UNCERTAIN).update(
        status=Notification.Status.SENT, sent_at=timezone.now(), last_error=""
    )
    if not updated:
        raise TownsquareError(
            "only a notification whose outcome is unknown can be marked sent", record=f"notification {notification.pk}"
        )
    notification.refresh_from_db()
    return notification


def destination_test(*, destination: Destination) -> Outcome:
    """Send a test message now (not through the outbox) and remember the result on the destination."""
    outcome = send_apprise(
        url=destination.url,
        title="Townsquare test message",
        body=f"This is a test from Townsquare to the destination '{destination.name}'. If you can read it, it works.",
        body_format=Notification.Format.TEXT,
    )
    Destination.objects.filter(pk=destination.pk).update(
        last_test_at=timezone.now(), last_test_ok=outcome.ok, last_test_error=outcome.error
    )
    return outcome
