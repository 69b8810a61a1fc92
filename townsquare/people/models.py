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
    email_domain = models.CharField(max_length=255, blank=True, help_text="Staff email domain, if it differs from the company's.")
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
