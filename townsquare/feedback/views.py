from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib import messages as flash
from django.core.paginator import Paginator
from django.forms import Form
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from townsquare.core import roles
from townsquare.core.errors import TownsquareError
from townsquare.core.exports import csv_response
from townsquare.core.http import AuthenticatedHttpRequest
from townsquare.feedback import forms, selectors, services
from townsquare.feedback.models import Classification, Proposal, Theme
from townsquare.sources.models import Message

PAGE_SIZE = 50
EXPORT_HEADER = (
    "id", "title", "url", "status", "department", "score", "people", "customers", "channels", "messages",
    "last seen", "key phrases",
)  # fmt: skip


def _inbox(request: AuthenticatedHttpRequest) -> tuple[selectors.InboxFilters, forms.InboxFilterForm]:
    form = forms.InboxFilterForm(request.GET)
    return form.filters(), form


@roles.role_required(roles.READERS)
def index(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The theme inbox: filtered, ranked (in the period when dated), counted and paginated; HTMX swaps #fb-results."""
    filters, form = _inbox(request)
    stored, ranked = selectors.inbox_rows(filters)
    paginator: Paginator[Any] = Paginator(stored if stored is not None else ranked or [], PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    if stored is not None:
        rows = [selectors.stored_row(t) for t in page.object_list]
    else:
        rows = selectors.rows_with_themes(list(page.object_list))
    context = {
        "has_themes": bool(rows) or Theme.objects.exists(),
        "form": form,
        "filters": filters,
        "themes": rows,
        "page": page,
        "total": paginator.count,
        "period": filters.period,
        "proposals": selectors.proposals_open().count(),
        "can_curate": roles.has_role(request.user, roles.DEVREL),
        "formula": selectors.FORMULA,
        "sorts": list(selectors.SORTS),
        "sort": ("-" if filters.descending else "") + filters.sort,
        "views": [
            (selectors.View.LIVE, "Live"),
            (selectors.View.SINGLE, "Single reports"),
            (selectors.View.ALL, "All"),
        ],
    }
    if request.htmx:
        return render(request, "feedback/index.html#results", context)
    return render(request, "feedback/index.html", context)


@roles.role_required(roles.READERS)
def export(request: AuthenticatedHttpRequest) -> StreamingHttpResponse:
    """The filtered inbox as CSV, in the inbox's order: every row, not one page; streamed."""
    filters, _form = _inbox(request)
    stored, ranked = selectors.inbox_rows(filters)
    base = request.build_absolute_uri("/").rstrip("/")

    def lines() -> Iterator[list[object]]:
        if stored is not None:
            for theme in stored.iterator(chunk_size=500):
                yield _export_line(base, selectors.stored_row(theme))
            return
        rows = ranked or []
        for start in range(0, len(rows), 500):
            for row in selectors.rows_with_themes(rows[start : start + 500]):
                yield _export_line(base, row)

    return csv_response("feedback-themes.csv", EXPORT_HEADER, lines())


def _export_line(base: str, row: selectors.InboxRow) -> list[object]:
    theme = row.theme
    assert theme is not None
    return [
        theme.pk,
        theme.title,
        base + theme.get_absolute_url(),
        theme.get_status_display(),
        str(theme.department) if theme.department else "",
        round(row.score, 3),
        row.people,
        row.customers,
        row.channels,
        row.messages,
        row.last_seen.date().isoformat() if row.last_seen else "",
        "; ".join(str(p) for p in theme.key_phrases),
    ]


@roles.role_required(roles.READERS)
def theme_search(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Themes matching ``q`` by title (or ``#id``), as radio choices for the move and merge pickers."""
    query = request.GET.get("q", "").strip()[:200]
    exclude = request.GET.get("exclude", "")
    name = request.GET.get("name", "theme")
    if name not in ("theme", "themes"):
        name = "theme"
    found = selectors.theme_search(query, exclude=int(exclude) if exclude.isdigit() else None) if query else []
    return render(request, "feedback/theme_search.html", {"found": found, "q": query, "name": name})


@roles.role_required(roles.READERS)
def theme(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    obj = selectors.theme_get(pk)
    if obj.status == Theme.Status.MERGED and obj.merged_into_id:
        return redirect("feedback:theme", pk=obj.merged_into_id)
    # One query for the theme's messages: the list, the counts, who is affected, quotes and threads read it.
    rows = list(selectors.theme_messages(obj).order_by("-message__created_at", "-message_id"))
    stats = selectors.stats_for(rows)
    people, customers = selectors.theme_affected(rows)
    context = {
        "theme": obj,
        "stats": stats,
        "rows": rows,
        "people": people,
        "customers": customers,
        "quotes": selectors.theme_quotes(rows),
        "threads": selectors.theme_threads(rows),
        "actions": selectors.theme_actions(obj),
        "can_curate": roles.has_role(request.user, roles.DEVREL),
        "rename_form": forms.RenameForm(initial={"title": obj.title}),
        "annotate_form": forms.AnnotateForm(initial={"why_now": obj.why_now, "summary": obj.summary}),
        "route_form": forms.RouteForm(initial={"department": obj.department_id}),
        "issue_form": forms.IssueForm(initial={"issue_url": obj.issue_url}),
        "address_form": forms.AddressForm(initial={"release": obj.addressed_release}),
        "kinds": Classification.Kind.choices,
        "formula": selectors.FORMULA,
    }
    return render(request, "feedback/theme.html", context)


def _done(request: AuthenticatedHttpRequest, theme: Theme, text: str) -> HttpResponse:
    flash.success(request, text)
    return redirect("feedback:theme", pk=theme.pk)


@roles.role_required(roles.DEVREL)
@require_POST
def theme_action(request: AuthenticatedHttpRequest, pk: int, action: str) -> HttpResponse:
    obj = selectors.theme_get(pk)
    user = request.user
    form: Form  # each action binds its own form class
    try:
        if action == "rename":
            form = forms.RenameForm(request.POST)
            if form.is_valid():
                services.theme_rename(theme=obj, title=form.cleaned_data["title"], by=user)
                return _done(request, obj, "Renamed.")
        elif action == "annotate":
            form = forms.AnnotateForm(request.POST)
            if form.is_valid():
                services.theme_annotate(theme=obj, by=user, **form.cleaned_data)
                return _done(request, obj, "Note saved.")
        elif action == "route":
            form = forms.RouteForm(request.POST)
            if form.is_valid():
                services.theme_route(theme=obj, department=form.cleaned_data["department"], by=user)
                return _done(request, obj, "Routed.")
        elif action == "issue":
            form = forms.IssueForm(request.POST)
            if form.is_valid():
                services.theme_link_issue(theme=obj, url=form.cleaned_data["issue_url"], by=user)
                return _done(request, obj, "Issue link saved.")
        elif action == "address":
            form = forms.AddressForm(request.POST)
            if form.is_valid():
                services.theme_mark_addressed(theme=obj, release=form.cleaned_data["release"], by=user)
                return _done(request, obj, "Marked as addressed.")
        elif action == "split":
            ids = list(obj.assignments.values_list("message_id", flat=True))
            form = forms.SplitForm(request.POST, message_ids=ids)
            if form.is_valid():
                new = services.theme_split(
                    theme=obj, message_ids=form.cleaned_data["messages"], title=form.cleaned_data["title"], by=user
                )
                flash.success(request, "Split into a new theme.")
                return redirect("feedback:theme", pk=new.pk)
        elif action == "move":
            form = forms.MoveForm(request.POST)
            if form.is_valid():
                message = get_object_or_404(Message, pk=form.cleaned_data["message"], feedback_assignment__theme=obj)
                services.message_move(message=message, theme=form.cleaned_data["theme"], by=user)
                return _done(request, obj, "Message moved.")
        elif action == "reclassify":
            form = forms.ReclassifyForm(request.POST)
            if form.is_valid():
                message = get_object_or_404(Message, pk=form.cleaned_data["message"], feedback_assignment__theme=obj)
                services.message_reclassify(
                    message=message, kind=form.cleaned_data["kind"], docs_gap=form.cleaned_data["docs_gap"], by=user
                )
                return _done(request, obj, "Classification corrected.")
        else:
            raise Http404("No such action.")
    except TownsquareError as exc:
        flash.error(request, exc.message)
        return redirect("feedback:theme", pk=obj.pk)
    flash.error(
        request, "Check the form: " + "; ".join(f"{k}: {' '.join(str(e) for e in v)}" for k, v in form.errors.items())
    )
    return redirect("feedback:theme", pk=obj.pk)


@roles.role_required(roles.DEVREL)
@require_POST
def merge(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Merge the selected themes into the one the curator keeps; without a choice yet, ask which survives."""
    form = forms.MergeForm(request.POST)
    back = request.POST.get("current") or ""
    if not form.is_valid() or len(form.cleaned_data["themes"]) < 2:
        flash.error(request, "Select at least two themes to merge.")
        return redirect("feedback:theme", pk=int(back)) if back.isdigit() else redirect("feedback:index")
    chosen = sorted(form.cleaned_data["themes"], key=lambda t: (-t.score, t.pk))
    target = form.survivor()
    if target is None:
        return render(request, "feedback/merge.html", {"themes": chosen, "default": chosen[0]})
    try:
        services.themes_merge(target=target, sources=[t for t in chosen if t.pk != target.pk], by=request.user)
    except TownsquareError as exc:
        flash.error(request, exc.message)
        return redirect("feedback:index")
    flash.success(request, f"Merged {len(chosen) - 1} theme(s) into “{target.title}”.")
    if form.cleaned_data["current"] is not None:
        return redirect("feedback:theme", pk=target.pk)
    return redirect("feedback:index")


@roles.role_required(roles.READERS)
def search(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Full-text search across channels, or ``?like=<message id>`` for messages similar in meaning."""
    query = request.GET.get("q", "").strip()[:200]
    like = request.GET.get("like", "")
    results: list[tuple[Message, float | None]] = []
    anchor = None
    if like.isdigit():
        anchor = get_object_or_404(Message.objects.select_related("channel", "source"), pk=int(like))
        results = [(m, s) for m, s in services.more_like_this(message=anchor, limit=20)]
    elif query:
        results = [(m, None) for m in selectors.message_search(query)]
    return render(request, "feedback/search.html", {"q": query, "anchor": anchor, "results": results})


@roles.role_required(roles.DEVREL)
def proposals(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.method == "POST":
        proposal = get_object_or_404(Proposal, pk=request.POST.get("proposal") or 0)
        try:
            services.proposal_decide(
                proposal=proposal, accept=request.POST.get("decision") == "accept", by=request.user
            )
            flash.success(request, "Done.")
        except TownsquareError as exc:
            flash.error(request, exc.message)
        return redirect("feedback:proposals")
    items = list(selectors.proposals_open()[:100])
    titles = dict(Theme.objects.filter(pk__in={i for p in items for i in p.theme_ids}).values_list("pk", "title"))
    rows = [(p, [(i, titles.get(i, f"#{i}")) for i in p.theme_ids]) for p in items]
    return render(request, "feedback/proposals.html", {"rows": rows})


@roles.role_required(roles.READERS)
def weights(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The score formula and its weights; the DevRel lead changes them."""
    current = selectors.score_weights_get()
    values = {name: getattr(current, name) for name in services.WEIGHT_FIELDS}
    can_edit = roles.has_role(request.user, roles.LEADS)
    form = forms.WeightsForm(request.POST or None, initial_weights=values)
    if request.method == "POST":
        if not can_edit:
            raise roles.PermissionDenied("Only the DevRel lead sets the score weights.")
        if form.is_valid():
            services.score_weights_update(by=request.user, **form.cleaned_data)
            flash.success(request, "Weights saved; scores are being recomputed.")
            return redirect("feedback:weights")
    return render(request, "feedback/weights.html", {"form": form, "can_edit": can_edit, "formula": selectors.FORMULA})


@roles.role_required(roles.DEVREL)
def member_themes(request: AuthenticatedHttpRequest, member_pk: int) -> HttpResponse:
    """The themes a member contributed to: the section people's member page loads (people sits below feedback)."""
    rows = selectors.member_themes(member_id=member_pk)
    template = "feedback/member_themes.html#themes" if request.htmx else "feedback/member_themes.html"
    return render(request, template, {"rows": rows, "member_pk": member_pk})
