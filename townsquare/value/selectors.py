"""Reads for the value report pages and API."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import QuerySet

from townsquare.core.quarters import Quarter
from townsquare.core.roles import Role
from townsquare.value.models import Goal, QuarterReport


def reports_visible_to(*, devrel: bool) -> QuerySet[QuarterReport]:
    """Everyone with a value role reads published reports; DevRel also sees drafts."""
    rows = QuarterReport.objects.select_related("published_by", "supersedes")
    return rows if devrel else rows.filter(status=QuarterReport.Status.PUBLISHED)


def report_latest_published(*, quarter: Quarter) -> QuarterReport | None:
    return (
        QuarterReport.objects.filter(quarter=quarter.key, status=QuarterReport.Status.PUBLISHED)
        .order_by("-revision")
        .first()
    )


def report_latest(*, quarter: Quarter) -> QuarterReport | None:
    return QuarterReport.objects.filter(quarter=quarter.key).order_by("-revision").first()


def goals_for(*, quarter: Quarter) -> QuerySet[Goal]:
    return Goal.objects.filter(quarter=quarter.key).order_by("position", "pk")


def sponsors() -> list[User]:
    """People with the executive viewer role and an email address: the default recipients."""
    return list(
        get_user_model()
        .objects.filter(groups__name=Role.EXECUTIVE, is_active=True)
        .exclude(email="")
        .order_by("first_name", "username")
        .distinct()
    )
