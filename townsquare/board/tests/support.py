from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone


def make_due(**filters: Any) -> int:
    """Skip a backoff wait: matching outbox rows become due now (instead of sleeping in the test)."""
    from townsquare.notify.models import Notification

    return Notification.objects.filter(**filters).update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))


def accepted_request(make_user: Any, *, by: Any, title: str = "Kafka connector tutorial") -> Any:
    """A real request filed by Marketing and accepted by DevRel, through intake's own services."""
    from townsquare.core.quarters import current_quarter
    from townsquare.intake import services as intake
    from townsquare.intake.models import RequestType
    from townsquare.people.models import Team

    requester = make_user("stakeholder_member", username="mia", team="Marketing", full_name="Mia Chen")
    team = Team.objects.get(slug="marketing")
    quarter = current_quarter()
    intake.budget_create(team=team, quarter=quarter, points=15, by=by)
    kind = intake.request_type_save(
        name="Tutorial for the board tests",
        slug="board-test-tutorial",
        description="A tutorial.",
        points=3,
        mode=RequestType.Mode.SERVICE,
        fields=[],
        active=True,
        by=by,
    )
    request = intake.request_file(
        team=team,
        requester=requester,
        request_type=kind,
        quarter=quarter,
        title=title,
        details={"audience": "data engineers"},
    )
    return intake.request_accept(request=request, by=by)
