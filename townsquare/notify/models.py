from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.urls import reverse

from townsquare.core.crypto import EncryptedTextField


class Purpose(models.TextChoices):
    """What a destination receives; an event is sent to every enabled destination with its purpose."""

    ANNOUNCEMENTS = "announcements", "Done announcements (public DevRel channel)"
    REPORTS = "reports", "Weekly feedback report summaries"
    REQUESTS = "requests", "Request status changes"
    DIGESTS = "digests", "Audience digests"
    ALERTS = "alerts", "Operational alerts"


# Apprise services Townsquare supports and documents, with the name people know them by.
SERVICE_LABELS = {
    "slack": "Slack",
    "mmost": "Mattermost",
    "mmosts": "Mattermost",
    "discord": "Discord",
    "matrix": "Matrix",
    "matrixs": "Matrix",
    "msteams": "Microsoft Teams",
    "workflows": "Microsoft Teams (Workflows)",
    "zulip": "Zulip",
    "rocket": "Rocket.Chat",
    "rockets": "Rocket.Chat",
    "mailto": "Email",
    "mailtos": "Email",
    "json": "JSON webhook",
    "jsons": "JSON webhook",
    "form": "Form webhook",
    "forms": "Form webhook",
    "xml": "XML webhook",
    "xmls": "XML webhook",
}


class Destination(models.Model):
    """A chat room, webhook or mailbox, addressed by an Apprise URL that is stored encrypted."""

    name = models.CharField(max_length=100, unique=True)
    url = EncryptedTextField(help_text="Apprise URL, e.g. slack://…, mmost://…, json://…, mailto://…")
    service = models.CharField(max_length=40, editable=False, help_text="The URL scheme, safe to display.")
    purposes = models.JSONField(default=list, blank=True)
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_test_at = models.DateTimeField(null=True, blank=True)
    last_test_ok = models.BooleanField(null=True)
    last_test_error = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("notify:destination", args=[self.pk])

    @property
    def service_label(self) -> str:
        return SERVICE_LABELS.get(self.service, self.service)

    @property
    def purpose_labels(self) -> list[str]:
        labels = dict(Purpose.choices)
        return [labels.get(p, p) for p in self.purposes]

    @staticmethod
    def scheme_of(url: str) -> str:
        return urlsplit(url.strip()).scheme.lower()


class Notification(models.Model):
    """One message to one target (a destination or an email address): the outbox row.

    Written in the transaction of the event that causes it; ``(event_key, target)`` is
    unique, so an event produces at most one delivery per target however often it is
    recorded. Lifecycle: pending → sending → sent, or failed (retried with backoff) →
    dead after the last attempt. An email while ``TOWNSQUARE_EMAIL_URL`` is unset is
    ``waiting`` (no attempt counted) and becomes pending as soon as email is set up. A worker that dies after the send began leaves the
    row ``uncertain``: it is never resent automatically, since the message may
    already be in the channel; a person checks and resends or marks it sent.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed, will retry"
        WAITING = "waiting", "Waiting for email to be set up"
        DEAD = "dead", "Gave up"
        UNCERTAIN = "uncertain", "Outcome unknown"

    class Format(models.TextChoices):
        TEXT = "text", "Plain text"
        MARKDOWN = "markdown", "Markdown"
        HTML = "html", "HTML"

    event_key = models.CharField(max_length=200)
    target = models.CharField(max_length=300, help_text="dest:<id> or email:<address>")
    destination = models.ForeignKey(
        Destination, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    email = models.EmailField(blank=True)
    title = models.CharField(max_length=300)
    body = models.TextField()
    body_format = models.CharField(max_length=10, choices=Format.choices, default=Format.TEXT)
    body_html = models.TextField(blank=True, help_text="Optional HTML alternative for email.")
    link = models.URLField(max_length=500, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    send_started_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["event_key", "target"], name="notification_once_per_target")]
        indexes = [
            # Serves the delivery sweep: rows due for a (re)try.
            models.Index(fields=["status", "next_attempt_at"], name="notification_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_key} → {self.target_label}"

    @property
    def target_label(self) -> str:
        if self.destination_id:
            return self.destination.name if self.destination else self.target
        return self.email

    # The outbox's filter groups: the home page's figures link to them, so a count and its list always agree.
    QUEUED_STATUSES = (Status.PENDING, Status.SENDING, Status.FAILED)
    ATTENTION_STATUSES = (Status.DEAD, Status.UNCERTAIN)

    @property
    def needs_attention(self) -> bool:
        return self.status in self.ATTENTION_STATUSES


class NotificationAttachment(models.Model):
    """A file sent with an email notification: an image its HTML body shows inline (``cid:<filename>``).

    Stored with the outbox row, so a retry sends the same bytes; email targets only (chat services get
    the body's links instead).
    """

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=100, help_text="Also the Content-ID the HTML refers to.")
    mimetype = models.CharField(max_length=100)
    content = models.BinaryField()

    class Meta:
        ordering = ["notification", "id"]
        constraints = [
            models.UniqueConstraint(fields=["notification", "filename"], name="notification_attachment_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.filename} of notification {self.notification_id}"
