from __future__ import annotations

from collections import OrderedDict
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from townsquare.core import roles
from townsquare.core.confirm import Confirmation, confirmation_response
from townsquare.core.errors import TownsquareError
from townsquare.core.http import AuthenticatedHttpRequest
from townsquare.core.quarters import Quarter, current_quarter, local_date, quarter_parse
from townsquare.intake import selectors, services
from townsquare.intake.charts import burn_down_chart
from townsquare.intake.fields import details_for_display
from townsquare.intake.forms import AdjustForm, BudgetForm, RequestForm, RequestTypeForm, TriageForm
from townsquare.intake.models import Budget, Request, RequestType
from townsquare.people.models import Team

# Admins pass every role check; stakeholder-only pages still let them in.
FILERS = roles.STAKEHOLDERS | {roles.Role.ADMIN}
CANCELLERS = roles.STAKEHOLDERS | roles.LEADS


# ---------------------------------------------------------------- object access


def team_get_for_user(request: AuthenticatedHttpRequest, slug: str) -> Team:
    """A stakeholder team the user may see: DevRel, executives and admins see all; others only their own."""
    team = selectors.stakeholder_teams().filter(slug=slug).first()
    if team is None or not selectors.team_visible_to(user=request.user, team=team):
        raise Http404("no such team")
    return team


def request_get_for_user(request: AuthenticatedHttpRequest, pk: int) -> Request:
    found = selectors.requests_visible_to(user=request.user).filter(pk=pk).first()
    if found is None:
        raise Http404("no such request")
    return found


def _quarter_from(request: AuthenticatedHttpRequest) -> Quarter:
    text = request.GET.get("quarter", "")
    if not text:
        return current_quarter()
    try:
        return quarter_parse(text)
    except ValueError as exc:
        raise Http404("unknown quarter") from exc


# ---------------------------------------------------------------- landing


@roles.role_required(roles.ALL)
def index(request: AuthenticatedHttpRequest) -> HttpResponse:
    quarter = current_quarter()
    filing_teams = list(selectors.filing_teams_for(request.user))
    types = list(selectors.request_types_active())
    devrel_view = selectors.is_devrel_reader(request.user)
    visible_teams = None if devrel_view else selectors.teams_of(request.user)
    context: dict[str, Any] = {
        "quarter": quarter,
        "filing_teams": filing_teams,
        "service_types": [t for t in types if not t.is_mentoring],
        "mentoring_types": [t for t in types if t.is_mentoring],
        "balances": selectors.budgets_with_balances(quarter=quarter, teams=visible_teams),
        "devrel_view": devrel_view,
        "can_triage": roles.has_role(request.user, roles.DEVREL),
        "undecided": selectors.triage_queue().count() if devrel_view else 0,
        "my_requests": selectors.requests_visible_to(user=request.user)
        .filter(requester=request.user, status__in=Request.OPEN_STATUSES)
        .order_by("priority")[:10]
        if request.user.is_authenticated
        else [],
    }
    return render(request, "intake/index.html", context)


# ---------------------------------------------------------------- filing


@roles.role_required(FILERS)
def request_new(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    request_type = get_object_or_404(RequestType, slug=slug)
    teams_qs = selectors.filing_teams_for(request.user)
    teams = list(teams_qs)
    if not teams:
        messages.error(request, "You are not in a stakeholder team, so there is no budget to file against.")
        return redirect("intake:index")
    can_override = any(selectors.is_team_lead(user=request.user, team=t) for t in teams)
    form = RequestForm(request.POST or None, request_type=request_type, teams=teams_qs, can_override=can_override)
    balance_info = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = services.request_file(
                team=data["team"],
                requester=request.user,
                request_type=request_type,
                quarter=data["quarter"],
                title=data["title"],
                details=form.details(),
                desired_date=data.get("desired_date"),
                override=bool(data.get("override")),
            )
        except TownsquareError as exc:
            field = {
                "type": None,
                "budget": None,
                "override": "override" if "override" in form.fields else None,
                "quarter": "quarter",
                "title": "title",
                "team": "team",
            }.get(str(exc.record))
            if exc.record == "budget":
                balance_info = _balance_help(data["team"], data["quarter"])
            if balance_info is None:  # the refusal box already says it, with the balance
                form.add_error(field, exc.message)
        else:
            note = " over budget, with your override recorded" if created.was_overridden else ""
            messages.success(request, f"Filed “{created.title}”{note}: {created.points} points reserved.")
            return redirect(created)
    budgets = selectors.budgets_with_balances(
        quarter=current_quarter(), teams=Team.objects.filter(pk__in=[t.pk for t in teams])
    )
    return render(
        request,
        "intake/request_form.html",
        {
            "form": form,
            "request_type": request_type,
            "budgets": budgets,
            "balance_info": balance_info,
            "can_override": can_override,
        },
    )


def _balance_help(team: Team, quarter: Quarter) -> dict[str, Any] | None:
    budget = Budget.objects.filter(team=team, quarter=quarter.key).select_related("team").first()
    if budget is None:
        return None
    lead_names = [
        m.user.get_full_name() or m.user.get_username()
        for m in team.memberships.filter(is_lead=True).select_related("user")
    ]
    return {"budget": budget, "balance": selectors.budget_balance(budget=budget), "leads": lead_names}


# ---------------------------------------------------------------- one request


@roles.role_required(roles.READERS)
def request_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    obj = request_get_for_user(request, pk)
    can_triage = roles.has_role(request.user, roles.DEVREL)
    initial = {}
    if obj.triaged_at:
        as_choice = {True: "yes", False: "no", None: "unsure"}
        initial = {
            "uniquely_devrel": as_choice[obj.uniquely_devrel],
            "team_could_with_guidance": as_choice[obj.team_could_with_guidance],
            "note": obj.triage_note,
        }
    return render(
        request,
        "intake/request_detail.html",
        _detail_context(request, obj, TriageForm(initial=initial) if can_triage and obj.is_undecided else None),
    )


def _detail_context(request: AuthenticatedHttpRequest, obj: Request, triage_form: TriageForm | None) -> dict[str, Any]:
    can_cancel = (
        obj.status in services.ALLOWED[Request.Status.CANCELLED]
        and roles.has_role(request.user, CANCELLERS)
        and (obj.requester_id == request.user.pk or selectors.is_team_lead(user=request.user, team=obj.team))
    )
    return {
        "obj": obj,
        "details": details_for_display(
            obj.type.fields if not obj.original_type else obj.original_type.fields, obj.details
        ),
        "events": obj.events.select_related("by"),
        "entries": obj.entries.select_related("by"),
        "triage_form": triage_form,
        "can_triage": roles.has_role(request.user, roles.DEVREL),
        "can_cancel": can_cancel,
        "same_type_count": selectors.same_type_count(request=obj),
        "mentoring_target": obj.type.mentoring_alternative if not obj.type.is_mentoring else None,
    }


@require_POST
@roles.role_required(roles.DEVREL)
def request_triage(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    obj = request_get_for_user(request, pk)
    form = TriageForm(request.POST)
    if form.is_valid():
        data, decision = form.cleaned_data, form.cleaned_data["decision"]
        try:
            with transaction.atomic():
                services.request_triage(
                    request=obj,
                    by=request.user,
                    note=data["note"],
                    quiet=decision != TriageForm.Decision.TRIAGE,
                    **form.answers(),
                )
                if decision == TriageForm.Decision.ACCEPT:
                    services.request_accept(request=obj, by=request.user, note=data["note"])
                elif decision == TriageForm.Decision.DECLINE:
                    services.request_decline(request=obj, by=request.user, note=data["note"])
                elif decision == TriageForm.Decision.MENTORING:
                    services.request_offer_mentoring(request=obj, by=request.user, plan=data["plan"])
        except TownsquareError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"“{obj.title}” is {obj.get_status_display().lower()}.")
            return redirect(request.POST.get("next") == "triage" and "intake:triage" or obj.get_absolute_url())
    obj.refresh_from_db()
    return render(request, "intake/request_detail.html", _detail_context(request, obj, form), status=400)


def _transition(request: AuthenticatedHttpRequest, pk: int, action: Any, done: str, **kwargs: Any) -> HttpResponse:
    obj = request_get_for_user(request, pk)
    try:
        action(request=obj, by=request.user, **kwargs)
    except TownsquareError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done.format(title=obj.title))
    if request.POST.get("next") == "triage":
        return redirect("intake:triage")
    return redirect(obj)


@require_POST
@roles.role_required(roles.DEVREL)
def request_offer_mentoring(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _transition(
        request,
        pk,
        services.request_offer_mentoring,
        "Mentoring offered for “{title}”.",
        plan=request.POST.get("plan", "")[:2000],
    )


@require_POST
@roles.role_required(roles.DEVREL)
def request_start(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _transition(request, pk, services.request_start, "Work on “{title}” started.")


@require_POST
@roles.role_required(roles.DEVREL)
def request_done(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _transition(request, pk, services.request_mark_done, "“{title}” is done.")


@require_POST
@roles.role_required(CANCELLERS)
def request_cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    obj = request_get_for_user(request, pk)
    asked = confirmation_response(
        request,
        Confirmation(
            title=f"Cancel the request “{obj.title}”?",
            text=f"DevRel stops work on it and {obj.team.name} gets its {obj.points} point"
            f"{pluralize(obj.points)} back. A cancelled request cannot be reopened: file it again if you need it later.",
            action="Cancel the request",
            cancel_url=obj.get_absolute_url(),
        ),
    )
    if asked is not None:
        return asked
    return _transition(request, pk, services.request_cancel, "Cancelled “{title}”; its points are back in the budget.")


# ---------------------------------------------------------------- triage queue


@roles.role_required(roles.DEVREL)
def triage(request: AuthenticatedHttpRequest) -> HttpResponse:
    team_slug = request.GET.get("team", "")
    team = get_object_or_404(Team, slug=team_slug) if team_slug else None
    rows = list(selectors.triage_queue(team=team))
    context = {
        "rows": rows,
        "team": team,
        "teams": selectors.stakeholder_teams(),
        "decided": selectors.triage_queue(team=team, include_decided=True).exclude(
            status__in=Request.UNDECIDED_STATUSES
        )[:50],
    }
    template = "intake/triage.html#queue" if request.htmx else "intake/triage.html"
    return render(request, template, context)


# ---------------------------------------------------------------- team budget page


@roles.role_required(roles.READERS)
def team_page(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    team = team_get_for_user(request, slug)
    quarter = _quarter_from(request)
    budget = Budget.objects.filter(team=team, quarter=quarter.key).select_related("team", "closed_by").first()
    context: dict[str, Any] = {
        "team": team,
        "quarter": quarter,
        "budget": budget,
        "quarters": selectors.quarters_with_budgets(),
    }
    if budget is not None:
        balance = selectors.budget_balance(budget=budget)
        entries, running = [], budget.points
        for entry in selectors.ledger_for_budget(budget=budget):
            running += entry.effect
            entries.append((entry, running))
        today = local_date(timezone.now())
        context.update(
            balance=balance,
            ledger=entries,
            chart=burn_down_chart(
                quarter=quarter,
                allowance=budget.points,
                points=selectors.burn_down(budget=budget, today=today),
                today=today,
            ),
        )
    by_status: OrderedDict[str, list[Request]] = OrderedDict((s.value, []) for s in Request.Status)
    for row in selectors.team_requests_in_quarter(team=team, quarter=quarter):
        by_status[row.status].append(row)
    labels = dict(Request.Status.choices)
    context["by_status"] = [(labels[s], s, rows) for s, rows in by_status.items() if rows]
    context.update(_priorities_context(request, team))
    context["adjust_form"] = AdjustForm() if roles.has_role(request.user, roles.LEADS) else None
    return render(request, "intake/team.html", context)


def _priorities_context(request: AuthenticatedHttpRequest, team: Team) -> dict[str, Any]:
    return {
        "team": team,
        "open_requests": list(selectors.team_open_requests(team=team)),
        "can_reorder": roles.has_role(request.user, FILERS)
        and selectors.teams_of(request.user).filter(pk=team.pk).exists(),
    }


@require_POST
@roles.role_required(FILERS)
def team_reorder(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """Save the team's ranking: the posted ``order`` (drag and drop), or one ``move`` up/down (no JavaScript)."""
    team = team_get_for_user(request, slug)
    try:
        order = [int(v) for v in request.POST.getlist("order")]
    except ValueError:
        order = []
    move = request.POST.get("move", "")
    try:
        if move:
            direction, _, pk = move.partition(":")
            if direction not in ("up", "down") or not pk.isdigit():
                raise TownsquareError("unknown move", record=team.name)
            if order:
                services.requests_reorder(team=team, ordered_ids=order, by=request.user)
            target = get_object_or_404(Request, pk=int(pk), team=team)
            services.request_move(request=target, direction=direction, by=request.user)
        elif order:
            services.requests_reorder(team=team, ordered_ids=order, by=request.user)
    except TownsquareError as exc:
        if request.htmx:
            context = _priorities_context(request, team) | {"reorder_error": exc.message}
            return render(request, "intake/team.html#priorities", context, status=409)
        messages.error(request, exc.message)
    else:
        if request.htmx:
            return render(request, "intake/team.html#priorities", _priorities_context(request, team) | {"saved": True})
        messages.success(request, "Priorities saved.")
    return redirect(reverse("intake:team", args=[team.slug]) + "#priorities")


# ---------------------------------------------------------------- budgets (DevRel lead)


@roles.role_required(roles.LEADS)
def budgets(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = BudgetForm(request.POST or None, teams=selectors.stakeholder_teams())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            budget = services.budget_create(
                team=data["team"], quarter=data["quarter"], points=data["points"], by=request.user
            )
        except TownsquareError as exc:
            form.add_error(
                "quarter" if exc.record == "quarter" else ("points" if exc.record == "points" else None), exc.message
            )
        else:
            messages.success(request, f"{budget.team.name} has {budget.points} points for {budget.quarter_obj.label}.")
            return redirect(reverse("intake:budgets") + f"?quarter={budget.quarter}")
    quarter = _quarter_from(request)
    return render(
        request,
        "intake/budgets.html",
        {
            "form": form,
            "quarter": quarter,
            "quarters": selectors.quarters_with_budgets(),
            "balances": selectors.budgets_with_balances(quarter=quarter),
            "missing": selectors.stakeholder_teams().exclude(budgets__quarter=quarter.key),
        },
    )


@require_POST
@roles.role_required(roles.LEADS)
def budget_adjust(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    budget = get_object_or_404(Budget.objects.select_related("team"), pk=pk)
    form = AdjustForm(request.POST)
    if form.is_valid():
        try:
            services.budget_adjust(
                budget=budget, points=form.cleaned_data["points"], reason=form.cleaned_data["reason"], by=request.user
            )
        except TownsquareError as exc:
            messages.error(request, f"Budget not adjusted: {exc.message}.")
        else:
            messages.success(
                request, f"Adjusted {budget.team.name}'s budget by {form.cleaned_data['points']:+d} points."
            )
    else:
        errors = "; ".join(
            f"{form.fields[k].label or k}: {' '.join(str(e) for e in v)}" for k, v in form.errors.items()
        )
        messages.error(request, f"Budget not adjusted: {errors}")
    return redirect(reverse("intake:team", args=[budget.team.slug]) + f"?quarter={budget.quarter}")


@require_POST
@roles.role_required(roles.LEADS)
def budget_close(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    budget = get_object_or_404(Budget.objects.select_related("team"), pk=pk)
    services.budget_close(budget=budget, by=request.user)
    messages.success(request, f"Closed {budget.quarter_obj.label} for {budget.team.name}.")
    return redirect(reverse("intake:team", args=[budget.team.slug]) + f"?quarter={budget.quarter}")


# ---------------------------------------------------------------- quarter summary


@roles.role_required(roles.VALUE_READERS)
def summary(request: AuthenticatedHttpRequest) -> HttpResponse:
    quarter = _quarter_from(request)
    return render(
        request,
        "intake/summary.html",
        {
            "summary": selectors.quarter_summary(quarter=quarter),
            "quarter": quarter,
            "quarters": selectors.quarters_with_budgets(),
        },
    )


# ---------------------------------------------------------------- request types (DevRel lead)


@roles.role_required(roles.LEADS)
def types(request: AuthenticatedHttpRequest) -> HttpResponse:
    rows = RequestType.objects.select_related("mentoring_alternative", "updated_by").order_by(
        "mode", "position", "name"
    )
    return render(request, "intake/types.html", {"types": rows})


@roles.role_required(roles.LEADS)
def type_edit(request: AuthenticatedHttpRequest, pk: int | None = None) -> HttpResponse:
    instance = get_object_or_404(RequestType, pk=pk) if pk else None
    initial = RequestTypeForm.initial_for(instance) if instance else {"form_fields": "[]"}
    form = RequestTypeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = services.request_type_save(
                request_type=instance,
                name=data["name"],
                slug=data["slug"],
                description=data["description"],
                points=data["points"],
                mode=data["mode"],
                fields=data["form_fields"],
                active=data["active"],
                mentoring_alternative=data["mentoring_alternative"],
                position=data["position"],
                by=request.user,
            )
        except TownsquareError as exc:
            field = exc.record if exc.record in ("points", "slug", "mode", "mentoring_alternative") else None
            form.add_error("form_fields" if exc.record == "fields" else field, exc.message)
        else:
            messages.success(request, f"Saved “{saved.name}”.")
            return redirect("intake:types")
    return render(request, "intake/type_form.html", {"form": form, "instance": instance})
