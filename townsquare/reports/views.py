from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.syndication.views import Feed
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from townsquare.core import roles
from townsquare.core.errors import TownsquareError
from townsquare.core.feeds import feed_view
from townsquare.core.http import AuthenticatedHttpRequest
from townsquare.core.weeks import iso_week_label, last_complete_week, parse_week
from townsquare.people.models import Team
from townsquare.reports import selectors, services
from townsquare.reports.models import Report, ReportItem, Subscription


def report_get_for_user(request: AuthenticatedHttpRequest, pk: int) -> Report:
    try:
        return selectors.reports_visible_to(user=request.user).get(pk=pk)
    except Report.DoesNotExist:
        raise Http404("no such report") from None


def draft_get_for_user(request: AuthenticatedHttpRequest, pk: int) -> Report:
    report = report_get_for_user(request, pk)
    if report.is_published:
        raise Http404("not a draft")
    return report


@roles.role_required(roles.READERS)
def archive(request: AuthenticatedHttpRequest) -> HttpResponse:
    department = request.GET.get("department", "")
    query = request.GET.get("q", "").strip()
    rows = selectors.report_archive(user=request.user, department=department, query=query)
    page = Paginator(rows, 30).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "department": department,
        "query": query,
        "departments": Team.objects.exclude(kind=Team.Kind.DEVREL).order_by("name"),
        "build_weeks": _recent_weeks(),
    }
    return render(request, "reports/archive.html#results" if request.htmx else "reports/archive.html", context)


def _recent_weeks(count: int = 8) -> list[tuple[str, str]]:
    latest = last_complete_week()
    weeks = [latest - dt.timedelta(weeks=i) for i in range(count)]
    return [(w.isoformat(), f"{iso_week_label(w)} ({w:%b %-d}–{w + dt.timedelta(days=6):%b %-d})") for w in weeks]


@require_POST
@roles.role_required(roles.DEVREL)
def build_week(request: AuthenticatedHttpRequest) -> HttpResponse:
    try:
        week = parse_week(request.POST.get("week", ""))
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect("reports:index")
    drafts = services.reports_build_week(week_start=week, by=request.user)
    if drafts:
        messages.success(
            request, f"{len(drafts)} draft{'s' if len(drafts) != 1 else ''} ready for {iso_week_label(week)}."
        )
    else:
        messages.info(request, f"Every report for {iso_week_label(week)} is already published.")
    return redirect("reports:index")


@roles.role_required(roles.READERS)
def report_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    report = report_get_for_user(request, pk)
    items = list(report.items.order_by("position"))
    return render(request, "reports/report.html", {"report": report, "items": items, "totals": report.totals(items)})


@roles.role_required(roles.READERS)
def item_detail(request: AuthenticatedHttpRequest, pk: int, position: int) -> HttpResponse:
    report = report_get_for_user(request, pk)
    item = get_object_or_404(ReportItem, report=report, position=position)
    return render(request, "reports/item.html", {"report": report, "item": item})


@roles.role_required(roles.READERS)
def report_pdf(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    from weasyprint import HTML

    report = report_get_for_user(request, pk)
    items = list(report.items.order_by("position"))
    html = render_to_string("reports/report_print.html", {"report": report, "items": items}, request=request)
    # No network fetches while rendering: every asset is inline, links stay links.
    pdf = HTML(string=html, base_url=None, url_fetcher=_no_fetch).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = f"townsquare-{report.department.slug if report.department else 'all'}-{report.iso_week}.pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"external resources are not fetched when rendering PDFs: {url}")


@roles.role_required(roles.READERS)
def report_changes(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    report = report_get_for_user(request, pk)
    previous = selectors.previous_published(report=report)
    changes = selectors.report_changes(report=report, previous=previous)
    return render(request, "reports/changes.html", {"report": report, "previous": previous, "changes": changes})


@roles.role_required(roles.DEVREL)
def draft_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    report = draft_get_for_user(request, pk)
    if request.method == "POST":
        try:
            anchor = _apply_edit(request, report)
        except (TownsquareError, ReportItem.DoesNotExist, ValueError) as exc:
            messages.error(request, str(exc))
            anchor = ""
        return redirect(reverse("reports:edit", args=[report.pk]) + (f"#{anchor}" if anchor else ""))
    items = list(report.items.order_by("position"))
    return render(
        request,
        "reports/edit.html",
        {
            "report": report,
            "items": items,
            "candidates": selectors.themes_to_add(report=report),
            "audience": selectors.report_audience(report=report),
        },
    )


def _item_edits(request: AuthenticatedHttpRequest, report: Report) -> dict[int, services.ItemEdit]:
    """Every item's title and note from the one editor form (fields ``title-<id>``, ``note-<id>``)."""
    edits = {}
    for key in request.POST:
        if key.startswith("note-") and key[5:].isdigit():
            pk = int(key[5:])
            edits[pk] = services.ItemEdit(note=request.POST[key], title=request.POST.get(f"title-{pk}"))
    return edits


def _apply_edit(request: AuthenticatedHttpRequest, report: Report) -> str:
    """Save everything typed in the form, then do what the pressed button asks; returns the anchor to land on."""
    action, _, target = request.POST.get("action", "save").partition(":")
    if action not in ("save", "add", "up", "down", "remove"):
        raise TownsquareError(f"unknown action {action!r}", record="action")
    edits = _item_edits(request, report)
    changed = services.report_draft_save(report=report, intro=request.POST.get("intro"), items=edits)
    if action == "save":
        messages.success(request, f"Saved the draft ({changed} theme{'s' if changed != 1 else ''} changed).")
        return ""
    if action == "add":
        item = services.report_add_theme(report=report, theme_id=int(request.POST.get("theme", "0")))
        messages.success(request, f"Added “{item.title}”.")
        return item.anchor
    item = report.items.get(pk=int(target or request.POST.get("item", "0")))
    if action in ("up", "down"):
        order = list(report.items.order_by("position").values_list("pk", flat=True))
        index = order.index(item.pk)
        swap = index - 1 if action == "up" else index + 1
        if 0 <= swap < len(order):
            order[index], order[swap] = order[swap], order[index]
            services.report_items_reorder(report=report, item_ids=order)
        item.refresh_from_db()
        return item.anchor
    services.report_item_remove(item=item)
    messages.success(request, f"Dropped “{item.title}” from this report.")
    return ""


@roles.role_required(roles.DEVREL)
def draft_publish(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """GET: what will be sent to whom, and a button to confirm (works without JavaScript). POST: publish."""
    report = report_get_for_user(request, pk)
    if request.method != "POST":
        if report.is_published:
            messages.info(request, "This report is already published.")
            return redirect(report.get_absolute_url())
        items = list(report.items.order_by("position"))
        return render(
            request,
            "reports/publish.html",
            {"report": report, "items": items, "audience": selectors.report_audience(report=report)},
        )
    try:
        outcome = services.report_publish(report=report, by=request.user)
    except TownsquareError as exc:
        messages.error(request, str(exc))
        return redirect("reports:edit", pk=pk)
    if outcome.sent_now:
        messages.success(request, f"Published. {len(outcome.notifications)} email and chat messages are on their way.")
    else:
        messages.info(request, "This report was already published; nothing was sent again.")
    return redirect(report.get_absolute_url())


@require_POST
@roles.role_required(roles.DEVREL)
def report_revise(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    report = report_get_for_user(request, pk)
    try:
        revision = services.report_revise(
            report=report, by=request.user, correction_note=request.POST.get("correction_note", "")
        )
    except TownsquareError as exc:
        messages.error(request, str(exc))
        return redirect(report.get_absolute_url())
    return redirect("reports:edit", pk=revision.pk)


@roles.role_required(roles.ALL)
def subscriptions(request: AuthenticatedHttpRequest) -> HttpResponse:
    departments = list(Team.objects.exclude(kind=Team.Kind.DEVREL).order_by("name"))
    lead_of = list(Team.objects.filter(memberships__user=request.user, memberships__is_lead=True))
    if request.method == "POST":
        department_id = request.POST.get("department", "")
        department = None if department_id == "all" else get_object_or_404(Team, pk=department_id)
        team = None
        if request.POST.get("team"):
            team = get_object_or_404(Team, pk=request.POST["team"])
            if team not in lead_of and not roles.has_role(request.user, roles.LEADS):
                messages.error(request, f"Only a lead of {team.name} can subscribe the whole team.")
                return redirect("reports:subscriptions")
        services.subscription_toggle(
            user=request.user, department=department, team=team, subscribe=request.POST.get("subscribe") == "1"
        )
        messages.success(request, "Subscriptions updated.")
        return redirect("reports:subscriptions")
    mine = selectors.departments_received_by(user=request.user)
    team_subs = set(Subscription.objects.filter(team__in=lead_of).values_list("team_id", "department_id"))
    rows = [
        {
            "department": d,
            "key": d.pk,
            "subscribed": d.pk in mine,
            "teams": [{"team": t, "subscribed": (t.pk, d.pk) in team_subs} for t in lead_of],
        }
        for d in departments
    ]
    rows.insert(
        0,
        {
            "department": None,
            "key": "all",
            "subscribed": None in mine,
            "teams": [{"team": t, "subscribed": (t.pk, None) in team_subs} for t in lead_of],
        },
    )
    return render(request, "reports/subscriptions.html", {"rows": rows})


@login_not_required  # the link in every email works with one click; the signed token is the credential
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        try:
            department, email = services.unsubscribe_with_token(token=token)
        except TownsquareError as exc:
            return render(request, "reports/unsubscribe.html", {"error": str(exc)}, status=400)
        return render(
            request,
            "reports/unsubscribe.html",
            {"done": True, "email": email, "department": department.name if department else "All departments"},
        )
    return render(request, "reports/unsubscribe.html", {"token": token})


class DepartmentFeed(Feed):
    feed_type = Atom1Feed

    def get_object(self, request: HttpRequest, slug: str) -> Team | None:
        if slug == "all":
            return None
        return get_object_or_404(Team, slug=slug)

    def title(self, obj: Team | None) -> str:
        return f"Townsquare feedback reports: {obj.name if obj else 'all departments'}"

    def link(self, obj: Team | None) -> str:
        return reverse("reports:index") + f"?department={obj.slug if obj else 'all'}"

    def subtitle(self, obj: Team | None) -> str:
        return "The weekly curated feedback report, published every Monday."

    def items(self, obj: Team | None) -> Any:
        rows = Report.objects.filter(status=Report.Status.PUBLISHED).select_related("department")
        rows = rows.filter(department=obj) if obj else rows.filter(department__isnull=True)
        return rows.order_by("-week_start", "-revision")[:52]

    def item_title(self, item: Report) -> str:
        return str(item)

    def item_description(self, item: Report) -> str:
        # Atom1Feed declares the summary type="html" and only XML-escapes it, so a reader would run any tag in a
        # theme title or note: every piece of snapshot text is HTML-escaped here, once.
        rows = format_html_join(
            "",
            "<li>{} ({} people){}</li>",
            (
                (i.title, i.people_count, format_html("<p>{}</p>", i.note) if i.note else "")
                for i in item.items.order_by("position")[:10]
            ),
        )
        return format_html("<ol>{}</ol>", rows)

    def item_pubdate(self, item: Report) -> Any:
        return item.published_at

    def item_updateddate(self, item: Report) -> Any:
        return item.published_at


@feed_view(roles.READERS)
def feed(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    return DepartmentFeed()(request, slug=slug)
