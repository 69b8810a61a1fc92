from __future__ import annotations

import pytest

from townsquare.home.demo import demo_load
from townsquare.intake import selectors
from townsquare.intake.demo import DEMO_REQUESTS, intake_demo_load
from townsquare.intake.models import Budget, LedgerEntry, Request
from townsquare.notify.models import Notification

pytestmark = pytest.mark.django_db


def test_the_demo_loads_budgets_and_requests_in_several_states_once(seeded_types) -> None:
    demo_load()
    first = intake_demo_load()
    assert first == {"budgets": 6, "requests": len(DEMO_REQUESTS)}
    counts = (
        Budget.objects.count(),
        Request.objects.count(),
        LedgerEntry.objects.count(),
        Notification.objects.count(),
    )
    assert intake_demo_load() == {"budgets": 0, "requests": 0}
    assert (
        Budget.objects.count(),
        Request.objects.count(),
        LedgerEntry.objects.count(),
        Notification.objects.count(),
    ) == counts
    statuses = set(Request.objects.values_list("status", flat=True))
    assert {"filed", "triaged", "accepted", "in_progress", "done", "declined", "mentoring"} <= statuses
    for budget, balance in selectors.budgets_with_balances(quarter=budget_quarter()):
        assert balance.available >= 0, budget


def budget_quarter():
    from townsquare.core.quarters import current_quarter

    return current_quarter()
