"""Demo data for the Requests loop: budgets this quarter and requests in several states.

Call after ``townsquare.home.demo.demo_load()`` (it uses its teams and people).
Idempotent: loading twice adds nothing, because each demo request is keyed by its title.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from townsquare.core.quarters import current_quarter, quarter_end
from townsquare.intake import selectors, services
from townsquare.intake.models import Budget, Request, RequestType
from townsquare.people.models import Team

BUDGET_POINTS = 15  # GitLab's developer evangelism handbook gave each stakeholder team 15 points a quarter

# (title, team, requester, type slug, what happens next, details)
DEMO_REQUESTS: list[tuple[str, str, str, str, str, dict[str, Any]]] = [
    (
        "Launch post for the Kafka connector",
        "Marketing",
        "mia",
        "new-blog-post",
        "accept",
        {"audience": "Data engineers already on Kafka", "key_points": "Zero-copy ingest; ten-minute setup."},
    ),
    (
        "Talk at PyCon DE: Streaming without tears",
        "Marketing",
        "marco",
        "talk-already-given",
        "start",
        {"talk": "Streaming without tears (2025)", "event": "PyCon DE"},
    ),
    (
        "Review the spring newsletter",
        "Marketing",
        "mia",
        "newsletter-review",
        "filed",
        {"draft_url": "https://docs.example.com/drafts/spring-newsletter"},
    ),
    (
        "Q&A hour for the support rotation",
        "Support",
        "sam",
        "qa-session",
        "done",
        {"audience": "Tier-2 support engineers", "topics": "Webhooks retries\nRate limits"},
    ),
    (
        "Answer the SSO thread on the forum",
        "Support",
        "sam",
        "community-response",
        "triaged",
        {"thread_url": "https://forum.example.com/t/sso-with-okta/4411"},
    ),
    (
        "Demo for Acme's platform team",
        "Sales",
        "sofia",
        "demo",
        "accept",
        {"setting": "Prospect call", "audience": "Acme platform engineers"},
    ),
    (
        "Metrics for the board deck",
        "Product",
        "priya",
        "metrics-pull",
        "decline",
        {"question": "How many active contributors did we have each month this year?"},
    ),
    (
        "Docs review: new CLI reference",
        "Engineering",
        "eli",
        "docs-review",
        "mentoring",
        {"docs_url": "https://github.com/example/product/pull/812"},
    ),
    (
        "Terraform integration tutorial",
        "Engineering",
        "eli",
        "integration-tutorial",
        "filed",
        {"integration": "Terraform", "use_case": "Provision a workspace and its webhooks from code."},
    ),
]


@transaction.atomic
def intake_demo_load() -> dict[str, int]:
    """Budgets for the current quarter for each stakeholder team, and a handful of requests."""
    User = get_user_model()
    quarter = current_quarter()
    dana = User.objects.filter(username="dana").first()
    ari = User.objects.filter(username="ari").first() or dana
    budgets = 0
    for stakeholder in selectors.stakeholder_teams():
        if not Budget.objects.filter(team=stakeholder, quarter=quarter.key).exists():
            services.budget_create(team=stakeholder, quarter=quarter, points=BUDGET_POINTS, by=dana)
            budgets += 1
    created = 0
    wanted_by = min(timezone.localdate() + dt.timedelta(days=21), quarter_end(quarter))
    for title, team_name, username, type_slug, outcome, details in DEMO_REQUESTS:
        team = Team.objects.filter(name=team_name).first()
        requester = User.objects.filter(username=username).first()
        request_type = RequestType.objects.filter(slug=type_slug, active=True).first()
        if team is None or requester is None or request_type is None:
            continue  # the home demo (teams and people) was not loaded, or a lead retired this type
        if Request.objects.filter(team=team, title=title).exists():
            continue
        request = services.request_file(
            team=team,
            requester=requester,
            request_type=request_type,
            quarter=quarter,
            title=title,
            details=details,
            desired_date=wanted_by,
        )
        created += 1
        if outcome == "filed" or ari is None:
            continue
        services.request_triage(
            request=request,
            by=ari,
            uniquely_devrel=outcome != "mentoring",
            team_could_with_guidance=outcome == "mentoring",
            note="" if outcome == "triaged" else "Looked at in Monday's triage.",
            quiet=outcome != "triaged",
        )
        if outcome in ("accept", "start", "done"):
            services.request_accept(request=request, by=ari)
        if outcome in ("start", "done"):
            services.request_start(request=request, by=ari)
        if outcome == "done":
            services.request_mark_done(request=request, by=ari)
        if outcome == "decline":
            services.request_decline(
                request=request, by=ari, note="The value report already has this chart; see the Value page."
            )
        if outcome == "mentoring":
            services.request_offer_mentoring(
                request=request, by=ari, plan="Pair on the first page, then Eli reviews the rest with our checklist."
            )
    return {"budgets": budgets, "requests": created}
