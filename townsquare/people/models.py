from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse


class Team(models.Model):
    """An internal department: DevRel itself or a stakeholder team with a quarterly budget."""

    class Kind(models.TextChoices):
        DEVREL = "devrel", "DevRel"
        ENGINEERING = "engineering", "Engineering"
        PRODUCT = "product", "Product"
        SUPPORT = "support", "Support"
        SALES = "sales", "Sales"
        MARKETING = "marketing", "Marketing"
        CUSTOMER_SUCCESS = "customer_success", "Customer success"
        EXECUTIVE = "executive", "Executive"
        OTHER = "other", "Other"

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    kind = models.CharField(max_length=30, choices=Kind.choices, default=Kind.OTHER)
    description = models.TextField(blank=True)
    email_domain = models.CharField(
        max_length=255, blank=True, help_text="Staff email domain, if it differs from the company's."
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="TeamMembership", related_name="teams")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("people:team", args=[self.slug])


class TeamMembership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships")
    is_lead = models.BooleanField(default=False)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="team_membership_unique")]
        ordering = ["team__name", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}{' (lead)' if self.is_lead else ''}"


class Organization(models.Model):
    """A company or project the community's people belong to, recognised by its email domains."""

    name = models.CharField(max_length=200, unique=True)
    website = models.URLField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OrganizationDomain(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=255, unique=True, help_text="Lower-case email domain, e.g. acme.com")

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain


class Account(models.Model):
    """A paying customer, imported from a CRM export; linked to an organisation."""

    class Tier(models.TextChoices):
        ENTERPRISE = "enterprise", "Enterprise"
        BUSINESS = "business", "Business"
        TEAM = "team", "Team"
        STARTUP = "startup", "Startup"
        FREE = "free", "Free / trial"

    crm_id = models.CharField(max_length=100, unique=True, help_text="The account's id in the CRM export.")
    name = models.CharField(max_length=200)
    organization = models.OneToOneField(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="account"
    )
    tier = models.CharField(max_length=20, choices=Tier.choices, default=Tier.TEAM)
    annual_revenue = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    owner = models.CharField(max_length=200, blank=True, help_text="Account owner in sales (name or email).")
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Member(models.Model):
    """One person of the community, possibly seen through several identities on several channels."""

    display_name = models.CharField(max_length=200)
    primary_email = models.EmailField(blank=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="community_members",
        help_text="Set when this person is company staff.",
    )
    is_staff = models.BooleanField(default=False, help_text="Company staff: kept, but excluded from feedback counts.")
    is_bot = models.BooleanField(default=False)
    first_seen = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["display_name"]
        indexes = [
            # Serves the people directory search and sort by name.
            models.Index(fields=["display_name"], name="member_name_idx"),
            # Serves "recently active" ordering in the directory and health metrics.
            models.Index(fields=["-last_seen"], name="member_last_seen_idx"),
        ]

    def __str__(self) -> str:
        return self.display_name

    def get_absolute_url(self) -> str:
        return reverse("people:member", args=[self.pk])


class Identity(models.Model):
    """One account of a person on one platform, keyed by (realm, external id).

    ``realm`` names the namespace where the external id is unique: "github",
    "slack:T024BE7LD", "discourse:forum.example.com", "irc:libera.chat", "email"...
    """

    realm = models.CharField(max_length=200)
    external_id = models.CharField(max_length=255)
    handle = models.CharField(max_length=255, blank=True)
    display_name = models.CharField(max_length=255, blank=True)
    email = models.EmailField(blank=True)
    email_verified = models.BooleanField(default=False, help_text="The platform vouches for this address.")
    is_bot = models.BooleanField(default=False)
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="identities")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["realm", "external_id"], name="identity_unique_per_realm")]
        indexes = [
            # Serves merge-by-email and merge suggestions by handle.
            models.Index(fields=["email"], name="identity_email_idx"),
            models.Index(fields=["handle"], name="identity_handle_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.handle or self.display_name or self.external_id} ({self.realm})"


class MergeRecord(models.Model):
    """An explicit, reversible merge or split of members, with who did it and why."""

    class Action(models.TextChoices):
        MERGE = "merge", "Merge"
        SPLIT = "split", "Split"

    class Reason(models.TextChoices):
        SAME_EMAIL = "same_email", "Same verified email"
        SAME_HANDLE = "same_handle", "Same handle (accepted suggestion)"
        MANUAL = "manual", "Manual"

    action = models.CharField(max_length=10, choices=Action.choices)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    source_member_id = models.BigIntegerField(
        help_text="The member whose identities moved (kept as id: it may be gone)."
    )
    target = models.ForeignKey(Member, null=True, on_delete=models.SET_NULL, related_name="merges_in")
    identity_ids = models.JSONField(default=list)
    snapshot = models.JSONField(default=dict, help_text="The source member's fields, to restore on undo.")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.action} {self.source_member_id} → {self.target_id}"


class MergeSuggestion(models.Model):
    """Two members who may be one person (e.g. the same handle on two channels); a curator decides."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    member_a = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    member_b = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["member_a", "member_b"], name="merge_suggestion_unique_pair")]

    def __str__(self) -> str:
        return f"{self.member_a_id} ~ {self.member_b_id}: {self.reason}"


class ErasureRecord(models.Model):
    """The audit trace of a GDPR erasure: counts, who, when and why; never the person's data."""

    member_id = models.BigIntegerField(help_text="Id of the erased member (the row is gone).")
    identity_count = models.PositiveIntegerField(default=0)
    message_count = models.PositiveIntegerField(default=0)
    merge_record_count = models.PositiveIntegerField(default=0, help_text="Merge history entries removed with it.")
    removed = models.JSONField(
        default=dict, blank=True, help_text="What each app's erase hook deleted, by kind, e.g. messages: 12."
    )
    reason = models.CharField(
        max_length=500, help_text="Why (e.g. a ticket reference); must not contain personal data."
    )
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"erasure of member {self.member_id}"


class ErasureSuppression(models.Model):
    """A keyed hash of one key of an erased person (an identity's realm and id, or an email): no personal data.

    Imports and syncs skip every record whose author matches one, so an erasure sticks when the same archive
    or channel is read again (``people.services.identities_suppressed``).
    """

    digest = models.CharField(max_length=64, unique=True, help_text="HMAC-SHA256 of the key, keyed by SECRET_KEY.")
    erasure = models.ForeignKey(
        ErasureRecord, null=True, blank=True, on_delete=models.SET_NULL, related_name="suppressions"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"suppression {self.digest[:12]}"


class Segment(models.Model):
    """A named view of the people directory (its filters and order), shared with the team or kept to oneself.

    The filters are stored as the directory's own query string, so a segment is exactly the page its link
    opens, and one export: "active customers on Discord", "newcomers this month", "drifting away".
    """

    name = models.CharField(max_length=100, unique=True)
    query = models.CharField(max_length=1000, help_text="The directory's query string, as DirectoryForm cleans it.")
    shared = models.BooleanField(default=True, help_text="Shown to every DevRel member, not only its author.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("people:directory") + (f"?{self.query}" if self.query else "")
