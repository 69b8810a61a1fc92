from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse


class Classification(models.Model):
    """What kind of feedback a message is, by the classifier or corrected by a curator."""

    class Kind(models.TextChoices):
        BUG = "bug", "Bug report"
        FEATURE = "feature", "Feature request"
        QUESTION = "question", "Question"
        COMPLAINT = "complaint", "Complaint"
        PRAISE = "praise", "Praise"
        NOT_FEEDBACK = "not_feedback", "Not feedback"

    message = models.OneToOneField("sources.Message", on_delete=models.CASCADE, related_name="feedback_classification")
    message_version = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    docs_gap = models.BooleanField(default=False, help_text="A question the documentation should have answered.")
    confidence = models.FloatField(default=0.0)
    classifier = models.ForeignKey(
        "ClassifierVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    curated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    curated_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # Serves the retraining task (curated examples) and "feedback only" filters.
            models.Index(fields=["kind", "curated_at"], name="fb_classification_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"message {self.message_id}: {self.kind} ({self.confidence:.2f})"

    @property
    def is_feedback(self) -> bool:
        return self.kind != self.Kind.NOT_FEEDBACK

    @property
    def is_curated(self) -> bool:
        return self.curated_by_id is not None or self.curated_at is not None


class ClassifierVersion(models.Model):
    """A trained feedback classifier: logistic-regression weights over the sentence embeddings (JSON, no pickle)."""

    created_at = models.DateTimeField(auto_now_add=True)
    embedding_model = models.CharField(max_length=100)
    classes = models.JSONField()
    coef = models.JSONField()
    intercept = models.JSONField()
    seed_examples = models.PositiveIntegerField(default=0)
    curated_examples = models.PositiveIntegerField(default=0)
    cv_accuracy = models.FloatField(
        null=True, blank=True, help_text="Cross-validated accuracy on the training examples."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        get_latest_by = ["created_at", "id"]

    def __str__(self) -> str:
        return f"classifier {self.pk} ({self.seed_examples}+{self.curated_examples} examples)"


class Embedding(models.Model):
    """The vector of one version of a message: stored here, searched through the vector index.

    ``vector`` is the unit vector as float16 (768 bytes; cosines within 1e-3 of float32). The database
    is the source of truth: the search index (``feedback.vectors``) is derived from these rows, keyed by
    ``id``, and rebuilt from them when it lost anything. Rows made before vectors were stored here have
    no vector; the next sweep embeds those messages again.
    """

    message = models.ForeignKey("sources.Message", on_delete=models.CASCADE, related_name="feedback_embeddings")
    message_version = models.PositiveIntegerField()
    model = models.CharField(max_length=100)
    vector = models.BinaryField(null=True, editable=False)
    # What "more like this" and duplicate proposals compare: the whole text read in windows of 256 word
    # pieces (``pipeline.embed.long_windows``), their mean as a unit float16 vector. Read only for
    # feedback, once: NULL until then, empty when ``vector`` already read the whole text.
    whole_vector = models.BinaryField(null=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["message", "message_version", "model"], name="fb_embedding_once_per_version"
            ),
        ]

    def __str__(self) -> str:
        return f"embedding of message {self.message_id} v{self.message_version}"


class ProcessingFailure(models.Model):
    """A message the pipeline could not process; the batch went on without it."""

    message = models.ForeignKey("sources.Message", on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(max_length=30)
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"message {self.message_id}: {self.stage}"


class Theme(models.Model):
    class Status(models.TextChoices):
        NEW = "new", "New"
        OPEN = "open", "Open"
        ROUTED = "routed", "Routed"
        ADDRESSED = "addressed", "Addressed"
        MERGED = "merged", "Merged"
        ARCHIVED = "archived", "Archived"

    title = models.CharField(max_length=200)
    title_curated = models.BooleanField(default=False, help_text="A curator named it: re-grouping keeps the title.")
    key_phrases = models.JSONField(default=list, blank=True)
    summary = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW)
    department = models.ForeignKey(
        "people.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="feedback_themes"
    )
    why_now = models.TextField(blank=True, help_text="Why this matters now: the curator's note for the report.")
    issue_url = models.URLField(max_length=1000, blank=True)
    addressed_release = models.CharField(max_length=200, blank=True)
    addressed_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
    centroid = models.BinaryField(blank=True, default=b"", help_text="Unit float32 mean of its messages' embeddings.")
    first_seen = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    # Denormalised by theme_refresh; the inbox sorts on them.
    message_count = models.PositiveIntegerField(default=0)
    phrases_count = models.PositiveIntegerField(
        default=0, help_text="How many messages the theme had when its title and key phrases were last made."
    )
    people_count = models.PositiveIntegerField(default=0)
    customer_count = models.PositiveIntegerField(default=0)
    channel_count = models.PositiveIntegerField(default=0)
    score = models.FloatField(default=0.0)
    score_parts = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-score", "-id"]
        indexes = [
            # Serves the inbox: live themes ranked by score.
            models.Index(fields=["status", "-score"], name="fb_theme_inbox_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("feedback:theme", args=[self.pk])

    @property
    def is_live(self) -> bool:
        return self.status not in (self.Status.MERGED, self.Status.ARCHIVED)


class ThemeMessage(models.Model):
    """A message's place in a theme. ``pinned_by_curator``: a person put it here; machines never move it."""

    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="assignments")
    message = models.OneToOneField("sources.Message", on_delete=models.CASCADE, related_name="feedback_assignment")
    similarity = models.FloatField(default=0.0)
    pinned_by_curator = models.BooleanField(default=False)
    assigned_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # Serves a theme's message list and counts.
            models.Index(fields=["theme", "message"], name="fb_thememessage_theme_idx"),
        ]

    def __str__(self) -> str:
        return f"message {self.message_id} in theme {self.theme_id}"


class ThemeFacet(models.Model):
    """One combination of (kind, docs gap, source, customer tier) present among a theme's messages.

    Written by ``theme_refresh`` together with the theme's counts, so the inbox's kind, channel and tier
    filters read this small table instead of joining the messages, their classification and their author's
    account. A combination is a row because the filters ask for one message that meets them all ("a
    feature request from an enterprise customer on Slack"), which per-dimension sets cannot answer.
    ``kind`` and ``tier`` are "" when the message has no classification or its author no account.
    """

    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="facets")
    kind = models.CharField(max_length=20, blank=True)
    docs_gap = models.BooleanField(default=False)
    source_id = models.IntegerField()  # not a foreign key: a fact copied at refresh, like the theme's counts
    tier = models.CharField(max_length=20, blank=True)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    messages = models.PositiveIntegerField()

    class Meta:
        indexes = [
            # Serves the inbox's kind filter: themes with a message of this kind.
            models.Index(fields=["kind", "theme"], name="fb_facet_kind_idx"),
            # Serves the inbox's channel filter: themes with a message from this source.
            models.Index(fields=["source_id", "theme"], name="fb_facet_source_idx"),
            # Serves the inbox's customer tier filter: themes with a message by this tier's customer.
            models.Index(fields=["tier", "theme"], name="fb_facet_tier_idx"),
            # Serves the inbox's "docs gap" kind filter.
            models.Index(fields=["theme"], condition=models.Q(docs_gap=True), name="fb_facet_docs_gap_idx"),
        ]

    def __str__(self) -> str:
        return f"theme {self.theme_id}: {self.kind or '-'} / source {self.source_id} / {self.tier or '-'}"


class CurationAction(models.Model):
    class Action(models.TextChoices):
        RENAME = "rename", "Renamed"
        MERGE = "merge", "Merged"
        SPLIT = "split", "Split"
        MOVE = "move", "Moved a message"
        ANNOTATE = "annotate", "Annotated"
        ROUTE = "route", "Routed"
        LINK_ISSUE = "link_issue", "Linked an issue"
        ADDRESS = "address", "Marked addressed"
        STATUS = "status", "Changed status"
        RECLASSIFY = "reclassify", "Corrected a classification"
        WEIGHTS = "weights", "Changed score weights"
        PROPOSAL = "proposal", "Decided on a proposal"

    theme = models.ForeignKey(Theme, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions")
    action = models.CharField(max_length=20, choices=Action.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.by_id} at {self.at:%Y-%m-%d %H:%M}"


class Proposal(models.Model):
    """A change re-grouping suggests; a curator accepts or dismisses it. Machines never apply it alone."""

    class Kind(models.TextChoices):
        MERGE = "merge", "Merge themes"
        SPLIT = "split", "Split a theme"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Accepted"
        DISMISSED = "dismissed", "Dismissed"
        STALE = "stale", "Stale"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    theme_ids = models.JSONField(default=list)
    message_ids = models.JSONField(default=list, blank=True, help_text="For a split: the messages to move out.")
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.theme_ids}"


class ScoreWeights(models.Model):
    """The weights of the theme score; one row, set by the DevRel lead."""

    person = models.FloatField(default=1.0, help_text="Points per distinct (non-staff, non-bot) person.")
    tier_enterprise = models.FloatField(default=5.0)
    tier_business = models.FloatField(default=3.0)
    tier_team = models.FloatField(default=2.0)
    tier_startup = models.FloatField(default=1.0)
    tier_free = models.FloatField(default=0.0)
    revenue = models.FloatField(
        default=1.0, help_text="Points per decade of summed annual revenue: w × log10(1 + revenue / 10,000)."
    )
    channel = models.FloatField(default=0.25, help_text="Multiplier bonus per channel beyond the first.")
    half_life_days = models.FloatField(
        default=14.0, help_text="Recency: the score halves every this many days of silence."
    )
    trend = models.FloatField(
        default=0.5, help_text="Week-over-week change in people, as a multiplier bonus (capped ±100%)."
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "score weights"

    def __str__(self) -> str:
        return "Score weights"

    def tier_weight(self, tier: str) -> float:
        return float(getattr(self, f"tier_{tier}", 0.0))
