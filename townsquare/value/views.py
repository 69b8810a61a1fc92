"""The quarterly value report pages: goals, the draft (build, curate, publish), the report, PDF and deck."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from townsquare.core import charts as core_charts
from townsquare.core import roles
from townsquare.core.errors import TownsquareError
from townsquare.core.http import AuthenticatedHttpRequest
from townsquare.core.quarters import Quarter, current_quarter, quarter_parse
from townsquare.value import presenting, sections, selectors, services
from townsquare.value.forms import GoalForm
from townsquare.value.models import Goal, QuarterReport


def _quarter(key: str) -> Quarter:
    try:
        return quarter_parse(key)
    except ValueError:
        raise Http404("no such quarter") from None


def report_get_for_user(request: AuthenticatedHttpRequest, pk: int) -> QuarterReport:
    devrel = roles.has_role(request.user, roles.DEVREL)
    try:
        return selectors.reports_visible_to(devrel=devrel).get(pk=pk)
    except QuarterReport.DoesNotExist:
        raise Http404("no such report") from None


@roles.role_required(roles.VALUE_READERS)
def index(request: AuthenticatedHttpRequest) -> HttpResponse:
    devrel = roles.has_role(request.user, roles.DEVREL)
    reports = list(selectors.reports_visible_to(devrel=devrel).order_by("-quarter", "-revision"))
    last = current_quarter().previous()
    return render(
        request,
        "value/index.html",
        {
            "reports": reports,
            "last": last,
            "current": current_quarter(),
            "can_edit": roles.has_role(request.user, roles.LEADS),
            "last_report": selectors.report_latest(quarter=last),
        },
    )


@roles.role_required(roles.LEADS)
def goals(request: AuthenticatedHttpRequest, key: str) -> HttpResponse:
    quarter = _quarter(key)
    form = GoalForm(request.POST or None)
    if request.method == "POST":
        action = request.POST.get("action", "add")
        try:
            if action.startswith("delete:"):
                goal = get_object_or_404(Goal, pk=int(action[7:]), quarter=quarter.key)
                services.goal_delete(goal=goal)
                messages.success(request, "Goal removed.")
                return redirect("value:goals", key=quarter.key)
            if form.is_valid():
                services.goal_create(quarter=quarter, by=request.user, **form.cleaned_data)
                messages.success(request, "Goal added.")
                return redirect("value:goals", key=quarter.key)
        except (TownsquareError, ValueError) as exc:
            form.add_error(None, str(exc))
    return render(
        request,
        "value/goals.html",
        {
            "quarter": quarter,
            "goals": selectors.goals_for(quarter=quarter),
            "form": form,
            "report": selectors.report_latest(quarter=quarter),
        },
    )


@require_POST
@roles.role_required(roles.LEADS)
def build(request: AuthenticatedHttpRequest, key: str) -> HttpResponse:
    quarter = _quarter(key)
    try:
        report = services.value_report_build_draft(quarter=quarter, by=request.user)
    except TownsquareError as exc:
        messages.error(request, str(exc))
        return redirect("value:index")
    messages.success(request, f"The {quarter.label} draft is built from today's figures.")
    return redirect("value:edit", pk=report.pk)


def _context(report: QuarterReport, *, include_hidden: bool = False) -> dict[str, Any]:
    views = presenting.section_views(report, include_hidden=include_hidden)
    core_charts.warm(presenting.all_charts(views))
    previous = report.data.get("previous", {})
    return {
        "report": report,
        "sections": views,
        "goals": presenting.goal_rows(report),
        "previous_label": previous.get("label", report.period.previous().label),
        "previous_report": selectors.report_latest_published(quarter=report.period.previous()),
        "superseded_by": QuarterReport.objects.filter(supersedes=report).first(),
    }


@roles.role_required(roles.VALUE_READERS)
def report_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    report = report_get_for_user(request, pk)
    context = _context(report)
    context["can_edit"] = roles.has_role(request.user, roles.LEADS)
    return render(request, "value/report.html", context)


@roles.role_required(roles.VALUE_READERS)
def report_compare(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """This quarter and the one before, side by side, with the same definitions (both built together)."""
    report = report_get_for_user(request, pk)
    return render(request, "value/compare.html", _context(report))


@roles.role_required(roles.LEADS)
def report_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    report = report_get_for_user(request, pk)
    if report.is_published:
        messages.info(request, "This report is published; publish a correction to change it.")
        return redirect(report.get_absolute_url())
    if request.method == "POST":
        notes = {s.key: request.POST.get(f"note-{s.key}", "") for s in sections.ordered()}
        hidden = [s.key for s in sections.ordered() if request.POST.get(f"hide-{s.key}")]
        try:
            services.value_report_save(
                report=report, narrative=request.POST.get("narrative", ""), notes=notes, hidden=hidden
            )
        except TownsquareError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Draft saved.")
            if request.POST.get("action") == "publish":
                return redirect("value:publish", pk=report.pk)
        return redirect("value:edit", pk=report.pk)
    return render(request, "value/edit.html", _context(report, include_hidden=True))


@roles.role_required(roles.LEADS)
def report_publish(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """GET: who will receive it, and a button to confirm. POST: publish and email them."""
    report = report_get_for_user(request, pk)
    if report.is_published:
        messages.info(request, "This report is already published.")
        return redirect(report.get_absolute_url())
    sponsors = selectors.sponsors()
    if request.method == "POST":
        chosen = [u.email for u in sponsors if request.POST.get(f"user-{u.pk}")]
        extra = [e for e in request.POST.get("extra", "").replace(";", ",").split(",") if e.strip()]
        try:
            outcome = services.value_report_publish(report=report, by=request.user, emails=[*chosen, *extra])
        except TownsquareError as exc:
            messages.error(request, str(exc))
            return redirect("value:publish", pk=report.pk)
        messages.success(request, f"Published. {len(outcome.notifications)} email(s) are on their way.")
        return redirect(report.get_absolute_url())
    return render(request, "value/publish.html", {"report": report, "sponsors": sponsors})


@require_POST
@roles.role_required(roles.LEADS)
def report_revise(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    report = report_get_for_user(request, pk)
    try:
        revision = services.value_report_revise(
            report=report, by=request.user, correction_note=request.POST.get("correction_note", "")
        )
    except TownsquareError as exc:
        messages.error(request, str(exc))
        return redirect(report.get_absolute_url())
    return redirect("value:edit", pk=revision.pk)


def _pdf(html: str) -> bytes:
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    # No network fetches while rendering: every asset is inline (charts are data: URLs), links stay links.
    fetcher = URLFetcher(allowed_protocols=["data"])
    return bytes(HTML(string=html, base_url=None, url_fetcher=fetcher).write_pdf())


def _pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def report_pdf_bytes(report: QuarterReport) -> bytes:
    from django.conf import settings

    context = {**_context(report), "base_url": settings.BASE_URL}
    return _pdf(render_to_string("value/report_print.html", context))


def report_deck_bytes(report: QuarterReport) -> bytes:
    from django.conf import settings

    context = {**_context(report), "base_url": settings.BASE_URL}
    return _pdf(render_to_string("value/deck.html", context))


@roles.role_required(roles.VALUE_READERS)
def report_pdf(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    report = report_get_for_user(request, pk)
    return _pdf_response(report_pdf_bytes(report), f"townsquare-value-{report.quarter}-r{report.revision}.pdf")


@roles.role_required(roles.VALUE_READERS)
def report_deck(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    report = report_get_for_user(request, pk)
    return _pdf_response(report_deck_bytes(report), f"townsquare-value-{report.quarter}-r{report.revision}-deck.pdf")
