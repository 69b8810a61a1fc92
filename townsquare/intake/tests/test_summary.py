"""The quarter summary against figures computed by hand."""

from __future__ import annotations

import pytest

from townsquare.core.quarters import current_quarter
from townsquare.core.roles import Role
from townsquare.intake import selectors, services
from townsquare.intake.models import Budget
from townsquare.intake.tests.factories import BudgetFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def quarter_of_work(setup, make_user):
    """Marketing (10 + 2 adjusted), Sales (8) and Support (5, unused), with requests in every state.

    Types: Blog post (service, 4), Q&A hour (service, 1), Coaching (mentoring, 1).
    """
    q = current_quarter()
    s, devrel = setup, setup.devrel

    def file(team, who, rtype, title):
        return services.request_file(team=team, requester=who, request_type=rtype, quarter=q, title=title)

    services.budget_adjust(budget=s.budget, points=2, reason="Launch quarter", by=devrel)
    services.request_accept(request=file(s.team, s.member, s.blog, "m1"), by=devrel)  # spent 4, service
    services.request_offer_mentoring(request=file(s.team, s.member, s.blog, "m2"), by=devrel)  # 4 → coaching, spent 1
    file(s.team, s.member, s.qa, "m3")  # reserved 1, service
    services.request_decline(request=file(s.team, s.member, s.qa, "m4"), by=devrel)  # refunded: 0

    seller = make_user(Role.STAKEHOLDER_MEMBER, team="Sales")
    sales = seller.teams.get()
    BudgetFactory(team=sales, points=8)
    s1 = services.request_accept(request=file(sales, seller, s.blog, "s1"), by=devrel)
    services.request_mark_done(request=s1, by=devrel)  # spent 4, service
    services.request_cancel(request=file(sales, seller, s.qa, "s2"), by=seller)  # refunded: 0
    file(sales, seller, s.coaching, "s3")  # reserved 1, mentoring

    support = make_user(Role.STAKEHOLDER_MEMBER, team="Support").teams.get()
    BudgetFactory(team=support, points=5)
    # Last quarter's figures must not leak in.
    Budget.objects.create(team=s.team, quarter=q.previous().key, points=99)
    return {"marketing": s.team, "sales": sales, "support": support}


def test_the_quarter_summary_matches_the_hand_computed_figures(setup, quarter_of_work) -> None:
    summary = selectors.quarter_summary(quarter=current_quarter())
    rows = {t.team.slug: t for t in summary.teams}
    assert list(rows) == ["marketing", "sales", "support"]

    mkt, sales, support = rows["marketing"], rows["sales"], rows["support"]
    # Marketing: allowance 10 + 2 = 12; reserved m3 = 1; spent m1 4 + m2 1 = 5; available 12 − 1 − 5 = 6.
    assert (mkt.balance.allowance, mkt.balance.reserved, mkt.balance.spent, mkt.balance.available) == (12, 1, 5, 6)
    # Service: blog 4 (m1) + Q&A 1 (m3) = 5; mentoring: coaching 1 (m2); live requests m1, m2, m3.
    assert (mkt.service, mkt.mentoring, mkt.requests) == (5, 1, 3)
    assert mkt.by_type == {setup.blog.pk: 4, setup.qa.pk: 1, setup.coaching.pk: 1}
    # Sales: 8; reserved s3 = 1; spent s1 = 4; available 3; service 4, mentoring 1; live s1, s3.
    assert (sales.balance.allowance, sales.balance.reserved, sales.balance.spent, sales.balance.available) == (
        8,
        1,
        4,
        3,
    )
    assert (sales.service, sales.mentoring, sales.requests) == (4, 1, 2)
    assert sales.by_type == {setup.blog.pk: 4, setup.coaching.pk: 1}
    assert (support.balance.available, support.service, support.mentoring, support.requests) == (5, 0, 0, 0)

    # Across teams: budgets 12 + 8 + 5 = 25; reserved 2; spent 9; service 9, mentoring 2 → 2/11 = 18 %.
    assert (summary.allowance, summary.reserved, summary.spent) == (25, 2, 9)
    assert (summary.service, summary.mentoring, summary.mentoring_percent) == (9, 2, 18)
    assert summary.type_totals == {setup.blog.pk: 8, setup.qa.pk: 1, setup.coaching.pk: 2}
    assert [t.name for t in summary.types] == ["Blog post", "Q&A hour", "Coaching"]


def test_the_summary_page_and_api_show_the_same_figures(client_for, setup, quarter_of_work) -> None:
    client = client_for(Role.DEVREL_LEAD, team="DevRel")
    page = client.get("/requests/summary/").content.decode()
    for fragment in (
        'id="total-allowance">25<',
        'id="total-reserved">2<',
        'id="total-spent">9<',
        'id="mentoring-share">18%<',
        "Service 9 points",
        "Mentoring 2 points",
    ):
        assert fragment in page
    data = client.get("/api/v1/intake/summary/").json()
    assert (data["allowance"], data["reserved"], data["spent"], data["service"], data["mentoring"]) == (25, 2, 9, 9, 2)
    marketing = next(t for t in data["teams"] if t["team"] == "marketing")
    assert marketing == {
        "team": "marketing",
        "allowance": 12,
        "reserved": 1,
        "spent": 5,
        "available": 6,
        "service": 5,
        "mentoring": 1,
        "requests": 3,
        "by_type": {"blog": 4, "qa": 1, "coaching": 1},
    }
