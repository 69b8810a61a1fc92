from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet

from townsquare.people.models import Team, TeamMembership


def teams_with_counts() -> QuerySet[Team]:
    return Team.objects.annotate(member_count=Count("memberships"))


def team_with_members(*, slug: str) -> Team:
    memberships = TeamMembership.objects.select_related("user").order_by("-is_lead", "user__first_name")
    return Team.objects.prefetch_related(Prefetch("memberships", queryset=memberships)).get(slug=slug)
