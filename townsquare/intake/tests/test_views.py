from __future__ import annotations

import pytest

from townsquare.core.quarters import current_quarter
from townsquare.core.roles import Role
from townsquare.intake import selectors, services
from townsquare.intake.models import Budget, LedgerEntry, Request, RequestType
from townsquare.intake.tests.factories import BudgetFactory

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


def as_user(client, user):
    client.force_login(user)
    return client


def form_data(**extra) -> dict:
    return {"title": "Kafka launch post", "quarter": current_quarter().key, "f_audience": "Data engineers", **extra}


def test_the_form_asks_the_types_own_questions_and_files_the_request(client, setup) -> None:
    client = as_user(client, setup.member)
    page = client.get("/requests/new/blog/").content.decode()
    assert "Who is the audience?" in page and 'name="f_audience"' in page
    assert "File over budget" not in page  # members cannot override
    response = client.post("/requests/new/blog/", form_data(desired_date="2030-01-31"))
    request = Request.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/requests/{request.pk}/"
    assert (request.team, request.details, str(request.desired_date)) == (
        setup.team,
        {"audience": "Data engineers"},
        "2030-01-31",
    )
    page = client.get(response["Location"]).content.decode()
    assert "4 points reserved" in page and "Data engineers" in page


def test_a_required_type_field_is_a_form_error(client, setup) -> None:
    response = as_user(client, setup.member).post("/requests/new/blog/", form_data(f_audience=""))
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert not Request.objects.exists()


def test_over_budget_the_form_shows_the_balance_and_who_can_override(client, setup) -> None:
    file(setup, title="one")
    file(setup, title="two")
    client = as_user(client, setup.member)
    response = client.post("/requests/new/blog/", form_data(title="three"))
    page = response.content.decode()
    assert "Not enough points. Marketing has 2 of 10 points left" in page and "this request costs 4" in page
    assert "Ask your team lead (Marco Rossi) to file it with an override" in page
    assert Request.objects.count() == 2
    # The lead sees the override box and uses it.
    client = as_user(client, setup.lead)
    assert "File over budget (team lead override)" in client.get("/requests/new/blog/").content.decode()
    refused = client.post("/requests/new/blog/", form_data(title="three")).content.decode()
    assert "As team lead you can file it anyway" in refused
    client.post("/requests/new/blog/", form_data(title="three", override="on"))
    assert Request.objects.get(title="three").override_by == setup.lead


def test_a_deactivated_type_gets_a_clear_form_error_and_files_nothing(client, setup) -> None:
    RequestType.objects.filter(pk=setup.blog.pk).update(active=False)
    client = as_user(client, setup.member)
    assert "“Blog post” is no longer offered" in client.get("/requests/new/blog/").content.decode()
    page = client.post("/requests/new/blog/", form_data()).content.decode()
    assert "“Blog post” is no longer offered; choose another type" in page
    assert not Request.objects.exists() and not LedgerEntry.objects.exists()


def test_a_closed_quarter_gets_a_clear_form_error_and_files_nothing(client, setup) -> None:
    previous = current_quarter().previous()
    Budget.objects.create(team=setup.team, quarter=previous.key, points=10)
    page = as_user(client, setup.member).post("/requests/new/blog/", form_data(quarter=previous.key)).content.decode()
    assert f"{previous.label} is closed: it ended on" in page
    garbage = client.post("/requests/new/blog/", form_data(quarter="last year")).content.decode()
    assert "not a quarter" in garbage
    assert not Request.objects.exists()


@pytest.mark.parametrize("points", ["-3", "2.5", "lots"])
def test_budget_points_must_be_a_whole_number_of_zero_or_more(client_for, setup, points) -> None:
    client = client_for(Role.DEVREL_LEAD, team="DevRel")
    response = client.post(
        "/requests/budgets/", {"team": setup.team.pk, "quarter": current_quarter().next().key, "points": points}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 0." in page or "Enter a whole number." in page
    assert Budget.objects.count() == 1


def test_the_devrel_lead_sets_a_budget_for_next_quarter(client_for, setup) -> None:
    client = client_for(Role.DEVREL_LEAD, team="DevRel")
    nxt = current_quarter().next()
    response = client.post("/requests/budgets/", {"team": setup.team.pk, "quarter": nxt.key, "points": "12"})
    assert response.status_code == 302
    assert Budget.objects.get(quarter=nxt.key).points == 12
    again = client.post("/requests/budgets/", {"team": setup.team.pk, "quarter": nxt.key, "points": "3"})
    assert "already has a budget" in again.content.decode()


@pytest.mark.parametrize(("points", "message"), [("-2.5", "Enter a whole number."), ("0", "other than zero")])
def test_a_bad_adjustment_changes_nothing(client_for, setup, points, message) -> None:
    client = client_for(Role.DEVREL_LEAD, team="DevRel")
    response = client.post(
        f"/requests/budgets/{setup.budget.pk}/adjust/", {"points": points, "reason": "x"}, follow=True
    )
    assert message in response.content.decode()
    assert not LedgerEntry.objects.exists()


def test_a_lead_adjustment_shows_in_the_ledger_with_its_reason(client_for, setup) -> None:
    client = client_for(Role.DEVREL_LEAD, team="DevRel")
    page = client.post(
        f"/requests/budgets/{setup.budget.pk}/adjust/", {"points": "-3", "reason": "Moved to Sales"}, follow=True
    ).content.decode()
    assert "Adjusted Marketing&#x27;s budget by -3 points." in page
    assert "Moved to Sales" in page
    assert selectors.budget_balance(budget=setup.budget).available == 7


@pytest.mark.parametrize("points", ["-1", "1.5"])
def test_request_type_points_must_be_whole_and_not_negative(client_for, setup, points) -> None:
    client = client_for(Role.DEVREL_LEAD, team="DevRel")
    response = client.post(
        f"/requests/types/{setup.blog.pk}/",
        {
            "name": "Blog post",
            "slug": "blog",
            "points": points,
            "mode": "service",
            "form_fields": "[]",
            "position": "1",
            "active": "on",
        },
    )
    assert response.status_code == 200
    setup.blog.refresh_from_db()
    assert setup.blog.points == 4


def test_the_devrel_lead_edits_a_type_and_its_fields(client_for, setup) -> None:
    client = client_for(Role.DEVREL_LEAD, team="DevRel")
    page = client.get(f"/requests/types/{setup.blog.pk}/").content.decode()
    assert "Who is the audience?" in page
    bad = client.post(
        f"/requests/types/{setup.blog.pk}/",
        {
            "name": "Blog post",
            "slug": "blog",
            "points": "5",
            "mode": "service",
            "position": "1",
            "active": "on",
            "form_fields": '[{"name": "x", "kind": "video"}]',
        },
    ).content.decode()
    assert "kind must be one of" in bad
    client.post(
        f"/requests/types/{setup.blog.pk}/",
        {
            "name": "Blog post",
            "slug": "blog",
            "points": "5",
            "mode": "service",
            "position": "1",
            "form_fields": '[{"name": "angle", "label": "Angle", "kind": "textarea", "required": true}]',
        },
    )
    setup.blog.refresh_from_db()
    assert (setup.blog.points, setup.blog.active, setup.blog.fields[0]["label"]) == (5, False, "Angle")


def test_a_stakeholder_sees_only_their_own_teams_pages(client, setup, make_user) -> None:
    request = file(setup)
    outsider = make_user(Role.STAKEHOLDER_MEMBER, team="Sales")
    BudgetFactory(team=outsider.teams.get())
    client = as_user(client, outsider)
    assert client.get(f"/requests/{request.pk}/").status_code == 404
    assert client.get("/requests/teams/marketing/").status_code == 404
    assert client.get("/requests/teams/sales/").status_code == 200
    assert client.post(f"/requests/{request.pk}/cancel/").status_code == 404
    assert client.post("/requests/teams/marketing/priorities/", {"order": [request.pk]}).status_code == 404


def test_devrel_triages_and_accepts_from_the_request_page(client, setup) -> None:
    request = file(setup)
    client = as_user(client, setup.devrel)
    page = client.get(f"/requests/{request.pk}/").content.decode()
    assert "Is this uniquely DevRel&#x27;s work?" in page and "Could the team do this itself with guidance?" in page
    response = client.post(
        f"/requests/{request.pk}/triage/",
        {"uniquely_devrel": "yes", "team_could_with_guidance": "no", "decision": "accept", "note": "Good fit"},
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.status, request.uniquely_devrel, request.team_could_with_guidance, request.triaged_by) == (
        Request.Status.ACCEPTED,
        True,
        False,
        setup.devrel,
    )


def test_declining_needs_a_note_and_refunds(client, setup) -> None:
    request = file(setup)
    client = as_user(client, setup.devrel)
    data = {"uniquely_devrel": "no", "team_could_with_guidance": "yes", "decision": "decline"}
    response = client.post(f"/requests/{request.pk}/triage/", data)
    assert response.status_code == 400 and "Tell the requester why" in response.content.decode()
    assert Request.objects.get(pk=request.pk).status == Request.Status.FILED
    client.post(f"/requests/{request.pk}/triage/", data | {"note": "The docs team owns this"})
    assert selectors.budget_balance(budget=setup.budget).available == 10


def test_the_queue_flags_the_third_request_and_offers_mentoring_in_one_click(client, setup) -> None:
    services.budget_adjust(budget=setup.budget, points=10, reason="more", by=setup.devrel)
    for title in ("first", "second", "third"):
        file(setup, title=title)
    third = Request.objects.get(title="third")
    client = as_user(client, setup.devrel)
    page = client.get("/requests/triage/").content.decode()
    assert page.count("Mentoring candidate: third “Blog post” this quarter") == 1
    response = client.post(f"/requests/{third.pk}/offer-mentoring/", {"next": "triage"})
    assert response["Location"] == "/requests/triage/"
    third.refresh_from_db()
    assert (third.status, third.type, third.points) == (Request.Status.MENTORING, setup.coaching, 1)


def test_the_triage_queue_ranks_by_each_teams_priority_then_date(client, setup, make_user) -> None:
    services.budget_adjust(budget=setup.budget, points=10, reason="more", by=setup.devrel)
    a, b = file(setup, title="mkt-a"), file(setup, title="mkt-b")
    services.requests_reorder(team=setup.team, ordered_ids=[b.pk, a.pk], by=setup.member)
    sales_user = make_user(Role.STAKEHOLDER_MEMBER, team="Sales")
    BudgetFactory(team=sales_user.teams.get())
    services.request_file(
        team=sales_user.teams.get(),
        requester=sales_user,
        request_type=setup.qa,
        quarter=current_quarter(),
        title="sales-a",
    )
    titles = [r.title for r in selectors.triage_queue()]
    assert titles.index("mkt-b") < titles.index("mkt-a")
    assert titles.index("sales-a") < titles.index("mkt-a")  # both teams' first choices come before second ones
    fragment = (
        as_user(client, setup.devrel).get("/requests/triage/?team=sales", HTTP_HX_REQUEST="true").content.decode()
    )
    assert "<html" not in fragment and "sales-a" in fragment and "mkt-a" not in fragment


def test_the_triage_queue_uses_a_constant_number_of_queries(client, setup, django_assert_max_num_queries) -> None:
    services.budget_adjust(budget=setup.budget, points=100, reason="more", by=setup.devrel)
    for i in range(15):
        file(setup, title=f"r{i}")
    client = as_user(client, setup.devrel)
    with django_assert_max_num_queries(12):
        client.get("/requests/triage/")


def test_members_reorder_without_javascript_using_the_arrows(client, setup) -> None:
    services.budget_adjust(budget=setup.budget, points=10, reason="more", by=setup.devrel)
    a, b, c = (file(setup, title=t) for t in "abc")
    client = as_user(client, setup.other_member)
    response = client.post("/requests/teams/marketing/priorities/", {"order": [a.pk, b.pk, c.pk], "move": f"up:{c.pk}"})
    assert response.status_code == 302 and response["Location"].endswith("/requests/teams/marketing/#priorities")
    assert [r.title for r in selectors.team_open_requests(team=setup.team)] == ["a", "c", "b"]


def test_drag_and_drop_posts_the_whole_order_and_gets_the_list_back(client, setup) -> None:
    services.budget_adjust(budget=setup.budget, points=10, reason="more", by=setup.devrel)
    a, b, c = (file(setup, title=t) for t in "abc")
    response = as_user(client, setup.member).post(
        "/requests/teams/marketing/priorities/", {"order": [c.pk, a.pk, b.pk]}, HTTP_HX_REQUEST="true"
    )
    page = response.content.decode()
    assert response.status_code == 200 and "<html" not in page and "Order saved." in page
    assert page.index(">c</a>") < page.index(">a</a>") < page.index(">b</a>")


def test_the_team_page_shows_the_burn_down_and_the_refund_in_the_ledger(client, setup) -> None:
    request = file(setup, title="<img src=x onerror=alert(1)>")
    services.request_decline(request=request, by=setup.devrel, note="no")
    page = as_user(client, setup.member).get("/requests/teams/marketing/").content.decode()
    assert '<svg viewBox="0 0 680 240"' in page and 'class="actual"' in page
    assert "Refunded" in page and 'class="num plus">+4<' in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert 'id="available">10<' in page


def test_the_landing_page_offers_the_types_and_the_balance(client, setup) -> None:
    page = as_user(client, setup.member).get("/requests/").content.decode()
    assert "File a request" in page and "Blog post" in page and "Coaching" in page
    assert "Your team's budget" in page
    devrel_page = as_user(client, setup.devrel).get("/requests/").content.decode()
    assert "Triage queue" in devrel_page and "Team budgets" in devrel_page


def test_the_requester_cancels_and_gets_the_points_back(client, setup) -> None:
    request = file(setup)
    client = as_user(client, setup.member)
    # First the question, on a page of its own (no JavaScript needed): nothing is cancelled yet.
    asked = client.post(f"/requests/{request.pk}/cancel/")
    page = asked.content.decode()
    assert asked.status_code == 200 and "Cancel the request “" in page and 'name="confirmed" value="yes"' in page
    assert Request.objects.get(pk=request.pk).status == Request.Status.FILED
    # With JavaScript the same question comes as the dialog's body alone.
    fragment = client.post(f"/requests/{request.pk}/cancel/", headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<div class="confirm">') and "<html" not in fragment
    response = client.post(f"/requests/{request.pk}/cancel/", {"confirmed": "yes"}, follow=True)
    assert "its points are back in the budget" in response.content.decode()
    assert selectors.budget_balance(budget=setup.budget).available == 10


def test_devrel_starts_and_finishes_accepted_work(client, setup) -> None:
    request = services.request_accept(request=file(setup), by=setup.devrel)
    client = as_user(client, setup.devrel)
    client.post(f"/requests/{request.pk}/start/")
    client.post(f"/requests/{request.pk}/done/")
    request.refresh_from_db()
    assert request.status == Request.Status.DONE
    assert list(request.events.values_list("to_status", flat=True)) == ["filed", "accepted", "in_progress", "done"]


def test_the_summary_page_renders_for_executives(client_for, setup) -> None:
    file(setup)
    page = client_for(Role.EXECUTIVE, team="Executive").get("/requests/summary/").content.decode()
    assert "Quarter summary" in page and "Blog post" in page
