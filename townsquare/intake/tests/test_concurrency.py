"""Members filing at the same moment never overspend: real concurrent transactions on PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from townsquare.core.errors import TownsquareError
from townsquare.core.quarters import current_quarter
from townsquare.core.roles import Role
from townsquare.intake import selectors, services
from townsquare.intake.models import LedgerEntry, Request
from townsquare.intake.tests.factories import BudgetFactory, RequestTypeFactory

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

FILERS = 12


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent transactions need PostgreSQL")


def test_concurrent_filings_never_overspend_the_budget(make_user) -> None:
    members = [make_user(Role.STAKEHOLDER_MEMBER, username=f"filer{i}", team="Marketing") for i in range(FILERS)]
    team = members[0].teams.get()
    budget = BudgetFactory(team=team, points=10)
    request_type = RequestTypeFactory(points=3, fields=[])
    start = threading.Barrier(FILERS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def file(member) -> None:
        try:
            start.wait(timeout=10)
            services.request_file(
                team=team,
                requester=member,
                request_type=request_type,
                quarter=current_quarter(),
                title=f"from {member.username}",
            )
            result = "filed"
        except TownsquareError as exc:
            result = exc.message
        finally:
            connections.close_all()  # each thread had its own connection
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=file, args=(m,)) for m in members]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(outcomes) == FILERS
    assert outcomes.count("filed") == 3  # 3 × 3 = 9 of 10 points; a fourth would overspend
    refusals = [o for o in outcomes if o != "filed"]
    assert all(o.startswith("not enough points: ") for o in refusals), refusals
    balance = selectors.budget_balance(budget=budget)
    assert (balance.reserved, balance.available) == (9, 1)
    assert Request.objects.count() == LedgerEntry.objects.count() == 3
    # Each team's ranking stays a clean sequence too.
    assert sorted(Request.objects.values_list("priority", flat=True)) == [1, 2, 3]


def test_a_lead_override_and_a_member_filing_at_once_stay_consistent(make_user) -> None:
    member = make_user(Role.STAKEHOLDER_MEMBER, username="member", team="Marketing")
    lead = make_user(Role.STAKEHOLDER_LEAD, username="lead", team="Marketing", is_lead=True)
    team = member.teams.get()
    budget = BudgetFactory(team=team, points=4)
    request_type = RequestTypeFactory(points=3, fields=[])
    start = threading.Barrier(2)
    errors: list[str] = []

    def file(user, override: bool) -> None:
        try:
            start.wait(timeout=10)
            services.request_file(
                team=team,
                requester=user,
                request_type=request_type,
                quarter=current_quarter(),
                title=user.username,
                override=override,
            )
        except TownsquareError as exc:
            errors.append(exc.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=file, args=(member, False)), threading.Thread(target=file, args=(lead, True))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    balance = selectors.budget_balance(budget=budget)
    # Either the member went first (both filed, the lead's over budget) or the lead did (the member is refused).
    if errors:
        assert Request.objects.get().requester == lead and balance.available == 1
    else:
        assert balance.available == -2
        assert Request.objects.get(requester=lead).was_overridden
