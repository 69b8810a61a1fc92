from __future__ import annotations

from django.db import models
from django.urls import reverse

from townsquare.core.crypto import EncryptedTextField
from townsquare.sources.text import prepare


class Source(models.Model):
    """A connected community channel (an API, or an uploaded archive) that is synced into messages."""

    class Kind(models.TextChoices):
        GITHUB = "github", "GitHub (API)"
        GITHUB_ARCHIVE = "github_archive", "GitHub issues archive (github-metadata-backup)"
        GITHUB_DISCUSSIONS = "github_discussions", "GitHub Discussions (GraphQL JSON)"
        GITLAB = "gitlab", "GitLab (API)"
        DISCOURSE = "discourse", "Discourse (API)"
        DISCOURSE_ARCHIVE = "discourse_archive", "Discourse topic JSON archive"
        STACKEXCHANGE = "stackexchange", "Stack Exchange (API)"
        STACKEXCHANGE_DUMP = "stackexchange_dump", "Stack Exchange data dump"
        MBOX = "mbox", "Mailing list (mbox)"
        PIPERMAIL = "pipermail", "Mailing list (Pipermail)"
        HYPERKITTY = "hyperkitty", "Mailing list (HyperKitty)"
        GROUPSIO = "groupsio", "Mailing list (groups.io)"
        NNTP = "nntp", "Newsgroup (NNTP)"
        SLACK = "slack", "Slack (API)"
        SLACK_EXPORT = "slack_export", "Slack workspace export (zip)"
        DISCORD = "discord", "Discord (bot API)"
        DISCORD_EXPORT = "discord_export", "Discord export (DiscordChatExporter JSON/HTML or API JSON)"
        MATRIX = "matrix", "Matrix (client-server API)"
        MATRIX_EXPORT = "matrix_export", "Matrix room export (Element JSON)"
        ZULIP = "zulip", "Zulip (API)"
        ZULIP_EXPORT = "zulip_export", "Zulip export"
        GITTER = "gitter", "Gitter (API)"
        MATTERMOST = "mattermost", "Mattermost (API)"
        ROCKETCHAT = "rocketchat", "Rocket.Chat (API)"
        TELEGRAM = "telegram", "Telegram (bot API)"
        SUPYBOT = "supybot", "IRC logs (Supybot / Limnoria)"
        IRC_LOG = "irc_log", "IRC logs (irclogs.ubuntu.com, irssi, WeeChat, ZNC)"
        RSS = "rss", "RSS / Atom feed"

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    config = models.JSONField(default=dict, blank=True, help_text="Non-secret settings: URLs, owner/repo, paths...")
    secrets = EncryptedTextField(blank=True, help_text="JSON object of secrets (API tokens), stored encrypted.")
    schedule = models.CharField(
        max_length=100, blank=True, help_text="Cron expression for scheduled syncs; empty = manual."
    )
    cursor = models.JSONField(default=dict, blank=True, help_text="Where the last sync stopped; a re-run resumes here.")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("sources:source", args=[self.pk])


class SyncRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Finished with rejected records"
        FAILED = "failed", "Failed"

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    new = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    warnings = models.PositiveIntegerField(
        default=0, help_text="Records kept but changed or chosen (a truncated body, a repeated id), listed with errors."
    )
    error = models.TextField(blank=True, help_text="Why the run as a whole failed, if it did.")
    cursor_before = models.JSONField(default=dict, blank=True)
    cursor_after = models.JSONField(default=dict, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Refreshed while the run reads: on another host, a silent run is dead."
    )
    host = models.CharField(
        max_length=300, blank=True, help_text="Host name and boot id of the process running it (empty while queued)."
    )
    pid = models.PositiveIntegerField(null=True, blank=True, help_text="Process id on ``host``.")
    pid_started = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text="The process's start time in clock ticks since boot, so a reused pid is not it.",
    )
    progress_done = models.PositiveBigIntegerField(
        default=0, help_text="Connector-defined units (files, bytes, pages)."
    )
    progress_total = models.PositiveBigIntegerField(default=0)
    upload = models.CharField(
        max_length=1000,
        blank=True,
        help_text="The uploaded archive (under DATA_DIR/uploads) this run reads; deleted once read whole.",
    )

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.source} run {self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def percent(self) -> int | None:
        if not self.progress_total:
            return None
        return min(100, round(100 * self.progress_done / self.progress_total))

    @property
    def processed(self) -> int:
        return self.new + self.updated + self.unchanged + self.rejected


class SyncError(models.Model):
    """One rejected record: which record, and why."""

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="errors")
    record = models.CharField(max_length=500, help_text="External id, file and line, or page of the bad record.")
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.record}: {self.reason}"


class Channel(models.Model):
    """A room, repository, forum category, list or tag within a source."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="channels")
    external_id = models.CharField(max_length=255)
    name = models.CharField(max_length=255)
    url = models.URLField(max_length=1000, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="channel_unique_per_source")]

    def __str__(self) -> str:
        return self.name


class Message(models.Model):
    """One piece of community talk, normalised. Upserted on (source, external_id)."""

    class Kind(models.TextChoices):
        ISSUE = "issue", "Issue"
        PULL_REQUEST = "pull_request", "Pull request"
        COMMENT = "comment", "Comment"
        POST = "post", "Post"
        REPLY = "reply", "Reply"
        CHAT = "chat", "Chat message"
        EMAIL = "email", "Email"
        QUESTION = "question", "Question"
        ANSWER = "answer", "Answer"
        ARTICLE = "article", "Article"

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="messages")
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
    external_id = models.CharField(max_length=255)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    author = models.ForeignKey(
        "people.Identity", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(null=True, blank=True)
    title = models.CharField(max_length=500, blank=True)
    body = models.TextField(blank=True, help_text="Plain text.")
    body_html = models.TextField(blank=True, help_text="Sanitised HTML, where the channel has rich text.")
    url = models.URLField(max_length=1000, blank=True, help_text="Link back to the original.")
    thread_external_id = models.CharField(
        max_length=255, blank=True, help_text="External id of the thread's first message."
    )
    parent_external_id = models.CharField(max_length=255, blank=True)
    language = models.CharField(max_length=12, blank=True)
    content_hash = models.CharField(
        max_length=64, help_text="Hash of the normalised content: unchanged re-imports are skipped."
    )
    version = models.PositiveIntegerField(
        default=1, help_text="Bumped when the content changes (embeddings key on it)."
    )
    ingested_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(
        null=True, blank=True, help_text="When a sync saw it deleted upstream; its text is removed then."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="message_unique_per_source")]
        indexes = [
            # Serves a member's page (messages of their identities, newest first).
            models.Index(fields=["author", "-created_at"], name="message_author_idx"),
            # Serves channel timelines and per-channel health metrics.
            models.Index(fields=["channel", "-created_at"], name="message_channel_idx"),
            # Serves thread views and duplicate-thread lists.
            models.Index(fields=["source", "thread_external_id"], name="message_thread_idx"),
            # Serves time-window scans (weekly report, re-clustering window).
            models.Index(fields=["-created_at"], name="message_created_idx"),
            # Serves the value report's quarter of theme messages: the range scan reads only this index (the
            # author and id are in it), never the message rows and their bodies.
            models.Index(fields=["created_at", "author", "id"], name="message_created_author_idx"),
        ]

    def __str__(self) -> str:
        return self.title or self.body[:60]

    @staticmethod
    def opens_thread(*, external_id: str, thread_external_id: str, parent_external_id: str) -> bool:
        """``starts_thread`` from plain column values, for bulk reads that load no model instances."""
        return not parent_external_id and thread_external_id in ("", external_id)

    @property
    def starts_thread(self) -> bool:
        """True for a thread's first message (an issue, a topic, a mail that replies to nothing)."""
        return self.opens_thread(
            external_id=self.external_id,
            thread_external_id=self.thread_external_id,
            parent_external_id=self.parent_external_id,
        )

    def text(self) -> str:
        """What of this message is embedded, classified and grouped (``text.prepare`` of title and body)."""
        return prepare(self.title, self.body)
