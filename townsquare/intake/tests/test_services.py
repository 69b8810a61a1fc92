from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from townsquare.core.errors import TownsquareError
from townsquare.core.quarters import current_quarter
from townsquare.intake import selectors, services
from townsquare.intake.models import Budget, LedgerEntry, Request, RequestEvent
from townsquare.intake.tests.factories import BudgetFactory, RequestTypeFactory
from townsquare.notify.models import Notification

pytestmark = pytest.mark.django_db


def file(setup, request_type=None, *, by=None, title="Kafka launch post", **kwargs) -> Request:
    return services.request_file(
        team=setup.team,
        requester=by or setup.member,
        request_type=request_type or setup.blog,
        quarter=current_quarter(),
        title=title,
        **kwargs,
    )


def balance(setup) -> selectors.Balance:
    return selectors.budget_balance(budget=setup.budget)


def snapshot() -> tuple[int, int, int, int]:
    return (
        Request.objects.count(),
        LedgerEntry.objects.count(),
        RequestEvent.objects.count(),
        Notification.objects.count(),
    )


def test_it_reserves_points_on_filing(setup) -> None:
    request = file(setup, details={"audience": "Data engineers"})
    assert (request.status, request.points, request.priority) == (Request.Status.FILED, 4, 1)
    assert balance(setup) == selectors.Balance(allocated=10, adjusted=0, reserved=4, spent=0)
    assert balance(setup).available == 6
    [entry] = LedgerEntry.objects.all()
    assert (entry.kind, entry.effect, entry.request) == (LedgerEntry.Kind.RESERVE, -4, request)


def test_it_spends_points_on_acceptance(setup) -> None:
    request = services.request_accept(request=file(setup), by=setup.devrel)
    assert request.status == Request.Status.ACCEPTED
    assert (balance(setup).reserved, balance(setup).spent, balance(setup).available) == (0, 4, 6)


def test_it_refunds_points_on_decline(setup) -> None:
    request = file(setup)
    services.request_decline(request=request, by=setup.devrel, note="Not this quarter")
    assert (balance(setup).reserved, balance(setup).spent, balance(setup).available) == (0, 0, 10)
    refund = LedgerEntry.objects.get(kind=LedgerEntry.Kind.REFUND)
    assert (refund.effect, refund.reason) == (4, "declined")


def test_it_refunds_spent_points_when_an_accepted_request_is_cancelled(setup) -> None:
    request = services.request_accept(request=file(setup), by=setup.devrel)
    services.request_cancel(request=request, by=setup.member)
    assert balance(setup).available == 10
    assert request.status == Request.Status.CANCELLED


def test_only_the_requester_or_the_team_lead_can_cancel(setup) -> None:
    request = file(setup)
    with pytest.raises(TownsquareError, match="only the requester or a team lead"):
        services.request_cancel(request=request, by=setup.other_member)
    services.request_cancel(request=request, by=setup.lead)
    assert balance(setup).available == 10


def test_the_balance_is_the_sum_of_the_ledger_not_a_stored_field(setup) -> None:
    file(setup)
    services.budget_adjust(budget=setup.budget, points=5, reason="Launch quarter", by=setup.devrel)
    services.budget_adjust(budget=setup.budget, points=-2, reason="Moved to Sales", by=setup.devrel)
    b = balance(setup)
    assert (b.allowance, b.reserved, b.available) == (13, 4, 9)
    entries = LedgerEntry.objects.filter(budget=setup.budget)
    assert setup.budget.points + sum(e.effect for e in entries) == b.available


def test_an_adjustment_needs_a_reason_and_a_whole_non_zero_number(setup) -> None:
    before = snapshot()
    for points, reason, message in [
        (0, "x", "not zero"),
        (3, "  ", "say why"),
        (2.5, "x", "whole number"),
        (-11, "x", "below zero"),
    ]:
        with pytest.raises(TownsquareError, match=message):
            services.budget_adjust(budget=setup.budget, points=points, reason=reason, by=setup.devrel)
    assert snapshot() == before


def test_filing_over_budget_is_refused_with_the_balance(setup) -> None:
    file(setup, title="one")
    file(setup, title="two")
    before = snapshot()
    with pytest.raises(TownsquareError) as caught:
        file(setup, title="three")
    assert caught.value.message == (
        f"not enough points: “Blog post” costs 4 and Marketing has 2 of 10 left for {current_quarter().label}"
    )
    assert snapshot() == before


def test_a_member_cannot_override_but_the_team_lead_can_and_it_is_recorded(setup) -> None:
    file(setup, title="one")
    file(setup, title="two")
    with pytest.raises(TownsquareError, match="only a lead of Marketing can file over budget"):
        file(setup, title="three", override=True)
    request = file(setup, title="three", by=setup.lead, override=True)
    assert request.was_overridden and request.override_by == setup.lead
    entry = request.entries.get()
    assert entry.reason == "filed over budget (2 left): override by lead Marco Rossi"
    assert balance(setup).available == -2


def test_an_override_within_budget_is_not_recorded_as_one(setup) -> None:
    request = file(setup, by=setup.lead, override=True)
    assert not request.was_overridden


def test_a_deactivated_type_cannot_be_filed(setup) -> None:
    setup.blog.active = False
    setup.blog.save()
    before = snapshot()
    with pytest.raises(TownsquareError, match="“Blog post” is no longer offered"):
        file(setup)
    assert snapshot() == before


def test_a_closed_quarter_refuses_filing(setup) -> None:
    previous = current_quarter().previous()
    Budget.objects.create(team=setup.team, quarter=previous.key, points=10)
    with pytest.raises(TownsquareError, match=f"{previous.label} is closed: it ended on"):
        services.request_file(
            team=setup.team, requester=setup.member, request_type=setup.blog, quarter=previous, title="late"
        )
    services.budget_close(budget=setup.budget, by=setup.devrel)
    with pytest.raises(TownsquareError, match="closed for Marketing: the DevRel lead closed it"):
        file(setup)
    with pytest.raises(TownsquareError, match="closed"):
        services.budget_adjust(budget=setup.budget, points=1, reason="x", by=setup.devrel)
    assert not Request.objects.exists()


def test_a_team_without_a_budget_is_told_to_ask_for_one(setup) -> None:
    with pytest.raises(TownsquareError, match=f"Marketing has no budget for {current_quarter().next().label} yet"):
        services.request_file(
            team=setup.team,
            requester=setup.member,
            request_type=setup.blog,
            quarter=current_quarter().next(),
            title="next quarter",
        )


def test_budgets_refuse_negative_or_fractional_points_and_duplicates(setup) -> None:
    team = setup.team
    for points in (-1, 1.5, "3"):
        with pytest.raises(TownsquareError, match="whole number"):
            services.budget_create(team=team, quarter=current_quarter().next(), points=points)
    with pytest.raises(TownsquareError, match="already has a budget"):
        services.budget_create(team=team, quarter=current_quarter(), points=3)
    assert Budget.objects.count() == 1


def test_the_third_service_request_of_one_type_is_a_mentoring_candidate(setup) -> None:
    services.budget_adjust(budget=setup.budget, points=20, reason="big quarter", by=setup.devrel)
    first, second = file(setup, title="a"), file(setup, title="b")
    other_type = file(setup, setup.qa, title="q")
    third = file(setup, title="c")
    assert [r.mentoring_candidate for r in (first, second, other_type, third)] == [False, False, False, True]
    mentoring = services.request_file(
        team=setup.team, requester=setup.member, request_type=setup.coaching, quarter=current_quarter(), title="m1"
    )
    assert not mentoring.mentoring_candidate


def test_offering_mentoring_converts_the_request_and_refunds_the_difference(setup) -> None:
    request = file(setup)
    services.request_offer_mentoring(request=request, by=setup.devrel, plan="Pair on the outline, review the draft.")
    request.refresh_from_db()
    assert (request.status, request.type, request.original_type, request.points) == (
        Request.Status.MENTORING,
        setup.coaching,
        setup.blog,
        1,
    )
    assert request.mentoring_plan == "Pair on the outline, review the draft."
    b = balance(setup)
    assert (b.reserved, b.spent, b.available) == (0, 1, 9)
    kinds = list(request.entries.values_list("kind", "reserved", "spent"))
    assert kinds == [("reserve", 4, 0), ("refund", -3, 0), ("spend", -1, 1)]


def test_a_type_without_a_mentoring_alternative_cannot_be_converted(setup) -> None:
    lonely = RequestTypeFactory(points=2)
    request = file(setup, lonely)
    with pytest.raises(TownsquareError, match="has no mentoring alternative"):
        services.request_offer_mentoring(request=request, by=setup.devrel)
    assert Request.objects.get(pk=request.pk).status == Request.Status.FILED


def test_the_status_flow_refuses_moves_it_does_not_allow(setup) -> None:
    request = services.request_decline(request=file(setup), by=setup.devrel)
    for action in (services.request_accept, services.request_start, services.request_offer_mentoring):
        with pytest.raises(TownsquareError, match="cannot .* a request that is declined"):
            action(request=request, by=setup.devrel)
    with pytest.raises(TownsquareError, match="cannot mark done a request that is declined"):
        services.request_mark_done(request=request, by=setup.devrel)


def test_the_whole_flow_tells_the_requester_at_each_status_change(setup) -> None:
    request = file(setup, title="Launch post")
    services.request_triage(request=request, by=setup.devrel, uniquely_devrel=True, team_could_with_guidance=False)
    services.request_accept(request=request, by=setup.devrel)
    services.request_start(request=request, by=setup.devrel)
    services.request_mark_done(request=request, by=setup.devrel)
    notices = list(Notification.objects.order_by("pk"))
    assert [n.title for n in notices] == [
        "Request filed: Launch post",
        "Request triaged: Launch post",
        "Request accepted: Launch post",
        "Request in progress: Launch post",
        "Request done: Launch post",
    ]
    assert {n.email for n in notices} == {"mia@example.com"}
    assert len({n.event_key for n in notices}) == 5
    assert "4 points are now spent" in notices[2].body
    assert notices[2].body.endswith(f"/requests/{request.pk}/")


def test_marking_done_twice_changes_nothing_the_second_time(setup) -> None:
    request = services.request_accept(request=file(setup), by=setup.devrel)
    services.request_mark_done(request=request, by=None)
    counts = snapshot()
    again = services.request_mark_done(request=Request.objects.get(pk=request.pk), by=None)
    assert again.status == Request.Status.DONE
    assert snapshot() == counts


def test_starting_twice_is_harmless(setup) -> None:
    request = services.request_accept(request=file(setup), by=setup.devrel)
    services.request_start(request=request, by=setup.devrel)
    counts = snapshot()
    services.request_start(request=request, by=setup.devrel)
    assert snapshot() == counts


def test_a_failed_transaction_leaves_no_notice_behind(setup) -> None:
    request = file(setup)
    before = snapshot()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.request_accept(request=request, by=setup.devrel)
        raise RuntimeError("the board could not create the task")
    assert snapshot() == before
    assert Request.objects.get(pk=request.pk).status == Request.Status.FILED


def test_notices_carry_hostile_titles_as_plain_text(setup) -> None:
    file(setup, title="<script>alert(1)</script> & <b>more</b>")
    notice = Notification.objects.get()
    assert notice.title == "Request filed: <script>alert(1)</script> & <b>more</b>"
    assert notice.body_format == Notification.Format.TEXT and "&lt;" not in notice.body


def test_triage_with_a_decision_sends_one_notice(setup) -> None:
    request = file(setup)
    with transaction.atomic():
        services.request_triage(
            request=request, by=setup.devrel, uniquely_devrel=False, team_could_with_guidance=True, quiet=True
        )
        services.request_decline(request=request, by=setup.devrel, note="Use the docs template")
    assert [n.title for n in Notification.objects.order_by("pk")][1:] == ["Request declined: Kafka launch post"]
    assert list(request.events.values_list("to_status", flat=True)) == ["filed", "triaged", "declined"]
    assert "Note: Use the docs template" in Notification.objects.order_by("pk").last().body


def test_the_team_ranks_its_open_requests(setup) -> None:
    services.budget_adjust(budget=setup.budget, points=20, reason="more", by=setup.devrel)
    a, b, c = file(setup, title="a"), file(setup, title="b"), file(setup, title="c")
    services.requests_reorder(team=setup.team, ordered_ids=[c.pk, a.pk], by=setup.member)
    assert list(selectors.team_open_requests(team=setup.team).values_list("title", flat=True)) == ["c", "a", "b"]
    services.request_move(request=Request.objects.get(pk=b.pk), direction="up", by=setup.member)
    assert list(selectors.team_open_requests(team=setup.team).values_list("title", "priority")) == [
        ("c", 1),
        ("b", 2),
        ("a", 3),
    ]


def test_only_members_rank_and_only_their_own_teams_requests(setup, make_user) -> None:
    request = file(setup)
    outsider = make_user("stakeholder_member", team="Sales")
    with pytest.raises(TownsquareError, match="only members of Marketing"):
        services.requests_reorder(team=setup.team, ordered_ids=[request.pk], by=outsider)
    sales = outsider.teams.get()
    BudgetFactory(team=sales)
    sales_request = services.request_file(
        team=sales, requester=outsider, request_type=setup.qa, quarter=current_quarter(), title="s"
    )
    with pytest.raises(TownsquareError, match="no longer open for this team"):
        services.requests_reorder(team=setup.team, ordered_ids=[sales_request.pk, request.pk], by=setup.member)


def test_a_member_cannot_file_for_another_team(setup, make_user) -> None:
    outsider = make_user("stakeholder_member", team="Sales")
    with pytest.raises(TownsquareError, match="not a member of Marketing"):
        file(setup, by=outsider)


def test_request_types_validate_points_and_field_definitions(setup) -> None:
    for points in (-1, 2.5, True):
        with pytest.raises(TownsquareError, match="whole number"):
            services.request_type_save(
                name="X", slug="x", description="", points=points, mode="service", fields=[], active=True
            )
    bad_fields = [
        ({"name": "x"}, "list of objects"),
        ([{"name": "Bad Name"}], "field 1: name must be"),
        ([{"name": "a", "kind": "video"}], "kind must be one of"),
        ([{"name": "a", "kind": "choice"}], "non-empty list of text choices"),
        ([{"name": "title"}], "reserved"),
        ([{"name": "a"}, {"name": "a"}], "used twice"),
        ([{"name": "a", "colour": "red"}], "unknown keys: colour"),
    ]
    for fields, message in bad_fields:
        with pytest.raises(TownsquareError, match=message):
            services.request_type_save(
                name="X", slug="x", description="", points=1, mode="service", fields=fields, active=True
            )
    saved = services.request_type_save(
        name="X",
        slug="x",
        description="",
        points=2,
        mode="service",
        active=True,
        fields=[{"name": "where", "kind": "choice", "choices": ["Online", "Berlin"]}],
    )
    assert saved.fields == [
        {
            "name": "where",
            "label": "Where",
            "kind": "choice",
            "required": False,
            "help": "",
            "choices": ["Online", "Berlin"],
        }
    ]


def test_changing_a_types_points_does_not_reprice_filed_requests(setup) -> None:
    request = file(setup)
    services.request_type_save(
        request_type=setup.blog,
        name="Blog post",
        slug="blog",
        description="",
        points=9,
        mode="service",
        fields=[],
        active=True,
    )
    services.request_accept(request=request, by=setup.devrel)
    assert balance(setup).spent == 4


def test_the_burn_down_starts_at_the_budget_and_follows_the_ledger(setup) -> None:
    from townsquare.core.quarters import quarter_start

    file(setup)
    today = dt.date.today()
    points = selectors.burn_down(budget=setup.budget, today=today)
    assert points[0].day == quarter_start(current_quarter()) and points[0].available == 10
    assert points[-1].available == 6
