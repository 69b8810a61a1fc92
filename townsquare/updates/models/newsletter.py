"""The link drop, newsletter issues the community marketer writes, and DevRel's review of them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse


class DroppedLink(models.Model):
    """A link someone in the company thinks belongs in the newsletter, with a line of context."""

    class Via(models.TextChoices):
        WEB = "web", "Web form"
        API = "api", "API"
        SLACK = "slack", "Slack command"

    url = models.URLField(max_length=2000, help_text="The link as dropped (tracking parameters removed).")
    # sha256 of the normalised URL: a unique index on a hash stays small whatever the URL's length.
    url_key = models.CharField(max_length=64, unique=True)
    title = models.CharField(max_length=300, blank=True, help_text="Read from the page when fetching is allowed.")
    note = models.CharField(max_length=500)
    dropped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="dropped_links"
    )
    via = models.CharField(max_length=10, choices=Via.choices, default=Via.WEB)
    slack_user = models.CharField(max_length=200, blank=True, help_text="Slack's user name when no login matched.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Serves the link list (newest first) and the newsletter's candidates of a period.
            models.Index(fields=["-created_at", "-id"], name="upd_link_recent_idx"),
        ]

    def __str__(self) -> str:
        return self.title or self.url

    @property
    def dropped_by_name(self) -> str:
        if self.dropped_by is not None:
            return self.dropped_by.get_full_name() or self.dropped_by.username
        return self.slack_user or "someone"


class Newsletter(models.Model):
    """One issue of the community newsletter: the marketer's sections, DevRel's review."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        APPROVED = "approved", "Approved"

    title = models.CharField(max_length=200)
    period_start = models.DateField()
    period_end = models.DateField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="newsletters"
    )
    review_requested_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-period_end", "-id"]
        indexes = [
            # Serves the newsletter list and the DevRel-share series, by period.
            models.Index(fields=["-period_end", "-id"], name="upd_newsletter_period_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("updates:newsletter", args=[self.pk])

    @property
    def in_review(self) -> bool:
        return self.status == self.Status.IN_REVIEW


class NewsletterSection(models.Model):
    """A section of an issue, in ``position`` order. The marketer writes it; DevRel only suggests."""

    class Kind(models.TextChoices):
        LINK = "link", "Dropped link"
        RELEASE = "release", "Release"
        CONTENT = "content", "New content"
        THREAD = "thread", "Community thread"
        TEXT = "text", "Text"

    newsletter = models.ForeignKey(Newsletter, on_delete=models.CASCADE, related_name="sections")
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TEXT)
    heading = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    url = models.URLField(max_length=2000, blank=True)
    link = models.ForeignKey(DroppedLink, null=True, blank=True, on_delete=models.SET_NULL, related_name="sections")
    # Where a suggested section came from ("link:12", "task:7", "theme:3"): one section per source and issue.
    source_key = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["newsletter", "position", "id"]
        indexes = [
            # Serves an issue's sections in order.
            models.Index(fields=["newsletter", "position", "id"], name="upd_section_order_idx"),
        ]

    def __str__(self) -> str:
        return self.heading


class SectionRevision(models.Model):
    """Who wrote what: one row per change of a section's text, with the characters that author added.

    ``by_devrel`` is the author's side when they wrote it (a DevRel suggestion the marketer accepts is
    DevRel's text), so the share of an issue written by DevRel survives later role changes.
    """

    class Action(models.TextChoices):
        ADDED = "added", "Added"
        EDITED = "edited", "Edited"
        SUGGESTION_ACCEPTED = "suggestion_accepted", "Suggestion accepted"
        REMOVED = "removed", "Removed"

    newsletter = models.ForeignKey(Newsletter, on_delete=models.CASCADE, related_name="revisions")
    section = models.ForeignKey(
        NewsletterSection, null=True, blank=True, on_delete=models.SET_NULL, related_name="revisions"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    by_devrel = models.BooleanField(default=False)
    action = models.CharField(max_length=20, choices=Action.choices)
    heading = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    chars_written = models.PositiveIntegerField(default=0, help_text="Characters this change added.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Serves an issue's history and the DevRel-share sums per issue.
            models.Index(fields=["newsletter", "by_devrel"], name="upd_revision_share_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.heading}"


class ReviewComment(models.Model):
    """DevRel's review: a comment or suggested text on a section, or a decision on the whole issue."""

    class Kind(models.TextChoices):
        COMMENT = "comment", "Comment"
        SUGGESTION = "suggestion", "Suggested text"
        APPROVE = "approve", "Approved"
        CHANGES = "changes", "Asked for changes"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Accepted"
        DISMISSED = "dismissed", "Dismissed"

    newsletter = models.ForeignKey(Newsletter, on_delete=models.CASCADE, related_name="comments")
    section = models.ForeignKey(
        NewsletterSection, null=True, blank=True, on_delete=models.SET_NULL, related_name="comments"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.COMMENT)
    body = models.TextField(blank=True)
    suggested_body = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.newsletter_id}"
