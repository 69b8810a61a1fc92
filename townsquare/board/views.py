from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape, format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from townsquare.board import chat, selectors, services
from townsquare.board.forms import (
    AnnouncementForm,
    BoardSettingsForm,
    CollaboratorForm,
    MoveForm,
    PeriodForm,
    TaskForm,
    ThanksForm,
)
from townsquare.board.models import Announcement, Collaborator, Column, Task
from townsquare.core import roles
from townsquare.core.errors import TownsquareError
from townsquare.core.feeds import feed_view
from townsquare.core.http import AuthenticatedHttpRequest
from townsquare.people.models import Team


def _move_options(current: str) -> str:
    """The <option>s of a card's move form, rendered once per column instead of once per card."""
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((value, mark_safe(" selected") if value == current else "", label) for value, label in Column.choices),
    )


def _board_context(request: AuthenticatedHttpRequest) -> dict[str, Any]:
    filters = selectors.board_filters_from(request.GET)
    query = urlencode(filters.query())
    columns = selectors.board_get(user=request.user, filters=filters)
    for column in columns:
        column.move_options = _move_options(column.key)  # type: ignore[attr-defined]
    return {
        # Cards link to {{ tasks_url }}<id>/ and post to {{ tasks_url }}<id>/move/: reversing three URLs
        # per card was a fifth of the board's render time. The board tests follow those links.
        "tasks_url": reverse("board:tasks"),
        # What {% csrf_token %} renders, made once for the hundreds of card forms.
        "csrf_input": format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request)),
        "columns": columns,
        "filters": filters,
        "filter_query": query,
        "options": selectors.board_filter_options(request.user),
        "can_edit": selectors.can_edit(request.user),
        "column_choices": Column.choices,
        "column_limit": selectors.COLUMN_LIMIT,
    }


@roles.role_required(roles.ALL)
def index(request: AuthenticatedHttpRequest) -> HttpResponse:
    context = _board_context(request)
    if context["can_edit"]:
        context["waiting"] = list(selectors.announcements_waiting()[:10])
    template = "board/index.html#board" if request.htmx else "board/index.html"
    return render(request, template, context)


@roles.role_required(roles.ALL)
def task_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every task of one column (or all), as a table: where the board's "more" links lead."""
    filters = selectors.board_filters_from(request.GET)
    column = request.GET.get("column", "")
    tasks = selectors.with_card_data(selectors.tasks_filtered(request.user, filters))
    if column:
        if column not in Column.values:
            raise Http404("unknown column")
        tasks = tasks.filter(column=column)
    order = ("-done_at", "-id") if column == Column.DONE else ("column", "position", "id")
    page = Paginator(tasks.order_by(*order), 100).get_page(request.GET.get("page"))
    query = urlencode({**filters.query(), **({"column": column} if column else {})})
    return render(
        request,
        "board/task_list.html",
        {
            "page": page,
            "column": column,
            "column_label": Column(column).label if column else "",
            "filters": filters,
            "query": query,
            "filter_query": urlencode(filters.query()),
        },
    )


@roles.role_required(roles.DEVREL)
def task_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = TaskForm(request.POST or None, initial={"column": request.GET.get("column", Column.BACKLOG)})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            task = services.task_create(
                title=data["title"],
                description=data["description"],
                column=data["column"],
                owner=data["owner"],
                due_date=data["due_date"],
                labels=services.parse_labels(data["labels"]),
                visibility=data["visibility"],
                by=request.user,
            )
        except TownsquareError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Added “{task.title}” to {task.get_column_display()}.")
            return redirect("board:task", pk=task.pk)
    return render(request, "board/task_form.html", {"form": form, "task": None})


@roles.role_required(roles.ALL)
def task_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    task = selectors.task_get_for_user(request.user, pk)
    can_edit = selectors.can_edit(request.user)
    context = {
        "task": task,
        "can_edit": can_edit,
        "history": selectors.task_history(task),
        "kudos": selectors.task_kudos(task),
        "announcements": selectors.task_announcements(task) if can_edit else [],
        "collaborator_form": CollaboratorForm(prefix="collab") if can_edit else None,
        "thanks_form": ThanksForm(prefix="thanks"),
        "move_form": MoveForm(initial={"column": task.column}),
        "column_choices": Column.choices,
    }
    return render(request, "board/task.html", context)


@roles.role_required(roles.DEVREL)
def task_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    task = selectors.task_get_for_user(request.user, pk)
    form = TaskForm(request.POST or None, initial=TaskForm.initial_for(task), editing=True)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.task_update(
                task=task,
                by=request.user,
                title=data["title"],
                description=data["description"],
                owner=data["owner"],
                due_date=data["due_date"],
                visibility=data["visibility"],
                labels=services.parse_labels(data["labels"]),
            )
        except TownsquareError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Saved.")
            return redirect("board:task", pk=task.pk)
    return render(request, "board/task_form.html", {"form": form, "task": task})


def _safe_next(request: AuthenticatedHttpRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


@require_POST
@roles.role_required(roles.DEVREL)
def task_move(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Drag and drop (HTMX) and the per-card form (no JavaScript) both post here."""
    task = selectors.task_get_for_user(request.user, pk)
    form = MoveForm(request.POST)
    if form.is_valid():
        before_pk = form.cleaned_data.get("before")
        before = Task.objects.filter(pk=before_pk).first() if before_pk else None
        try:
            moved = services.task_move(task=task, column=form.cleaned_data["column"], before=before, by=request.user)
        except TownsquareError as exc:
            messages.error(request, exc.message)
        else:
            _say_what_happened(request, moved, from_column=task.column)
    else:
        messages.error(request, "Pick a column to move the card to.")
    if request.htmx:
        context = _board_context(request)
        context["waiting"] = list(selectors.announcements_waiting()[:10])
        return render(request, "board/index.html#board", context)
    board_url = reverse("board:index") + (f"?{request.GET.urlencode()}" if request.GET else "")
    return redirect(_safe_next(request, board_url))


NO_DESTINATION_YET = (
    "No destination receives announcements yet: the announcement is held and goes out when one is added."
)


def _say_what_happened(request: AuthenticatedHttpRequest, task: Task, *, from_column: str) -> None:
    if task.column == from_column:
        return
    if task.column != Column.DONE:
        messages.success(request, f"Moved “{task.title}” to {task.get_column_display()}.")
        return
    announcement = task.announcements.order_by("-completion").first()
    if announcement is None:
        messages.success(request, f"“{task.title}” is done.")
    elif announcement.status == Announcement.Status.DRAFT:
        messages.success(request, f"“{task.title}” is done. Its announcement is waiting for your review.")
    elif announcement.destinations:
        messages.success(request, f"“{task.title}” is done and announced.")
    else:
        messages.warning(request, f"“{task.title}” is done. {NO_DESTINATION_YET}")


@require_POST
@roles.role_required(roles.DEVREL)
def collaborator_add(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    task = selectors.task_get_for_user(request.user, pk)
    form = CollaboratorForm(request.POST, prefix="collab")
    if form.is_valid():
        data = form.cleaned_data
        try:
            collaborator = services.collaborator_add(
                task=task,
                by=request.user,
                user=data["user"],
                name=data["name"],
                team=data["team"],
                contribution=data["contribution"],
            )
        except TownsquareError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Added {collaborator.display_name}.")
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("board:task", pk=task.pk)


@require_POST
@roles.role_required(roles.DEVREL)
def collaborator_remove(request: AuthenticatedHttpRequest, pk: int, collaborator_pk: int) -> HttpResponse:
    task = selectors.task_get_for_user(request.user, pk)
    collaborator = get_object_or_404(Collaborator, pk=collaborator_pk, task=task)
    services.collaborator_remove(collaborator=collaborator, by=request.user)
    messages.success(request, f"Removed {collaborator.display_name}.")
    return redirect("board:task", pk=task.pk)


@require_POST
@roles.role_required(roles.ALL)
def task_thank(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    task = selectors.task_get_for_user(request.user, pk)
    form = ThanksForm(request.POST, prefix="thanks")
    if form.is_valid():
        data = form.cleaned_data
        try:
            kudos = services.kudos_give(
                by=request.user,
                user=data["user"],
                name=data["name"],
                team=data["team"],
                message=data["message"],
                task=task,
            )
        except TownsquareError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Thanked {kudos.display_name}.")
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("board:task", pk=task.pk)


@roles.role_required(roles.DEVREL)
def announcement_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Preview a done announcement exactly as it will be sent; edit, send or discard it."""
    announcement = get_object_or_404(Announcement.objects.select_related("task", "decided_by"), pk=pk)
    form = AnnouncementForm(request.POST or None, instance=announcement)
    if request.method == "POST":
        action = request.POST.get("action", "save")
        try:
            if action == "discard":
                services.announcement_discard(announcement=announcement, by=request.user)
                messages.success(request, "Discarded: nothing will be sent for this completion.")
                return redirect("board:task", pk=announcement.task_id)
            if form.is_valid():
                announcement = services.announcement_update(
                    announcement=announcement,
                    headline=form.cleaned_data["headline"],
                    note=form.cleaned_data["note"],
                    by=request.user,
                )
                if action == "send":
                    announcement = services.announcement_send(announcement=announcement, by=request.user)
                    if announcement.destinations:
                        messages.success(
                            request,
                            f"Sent to the outbox for {announcement.destinations} "
                            f"destination{pluralize(announcement.destinations)}.",
                        )
                    else:
                        messages.warning(request, NO_DESTINATION_YET)
                    return redirect("board:task", pk=announcement.task_id)
                messages.success(request, "Saved. The preview below shows the new text.")
                return redirect("board:announcement", pk=announcement.pk)
        except TownsquareError as exc:
            messages.error(request, exc.message)
            return redirect("board:announcement", pk=announcement.pk)
    message = services.announcement_message(announcement)
    title, body = chat.render_done(message, "markdown")
    if announcement.status in (Announcement.Status.QUEUED, Announcement.Status.HELD):
        body = announcement.body
    return render(
        request,
        "board/announcement.html",
        {
            "announcement": announcement,
            "form": form,
            "preview_title": title,
            "preview_body": body,
            "event_key": services.announcement_event_key(announcement),
        },
    )


@roles.role_required(roles.LEADS)
def board_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    current = services.board_settings_get()
    form = BoardSettingsForm(request.POST or None, initial={"announce_mode": current.announce_mode})
    if request.method == "POST" and form.is_valid():
        services.board_settings_update(announce_mode=form.cleaned_data["announce_mode"], by=request.user)
        messages.success(request, "Saved the board settings.")
        return redirect("board:settings")
    return render(request, "board/settings.html", {"form": form, "current": current})


# ---------------------------------------------------------------- kudos and the done feed


def _period(request: AuthenticatedHttpRequest) -> tuple[selectors.Period, PeriodForm]:
    """The ledger period from ``?quarter=2026Q3`` or ``?start=…&end=…`` (dates, inclusive)."""
    from townsquare.core.quarters import quarter_end, quarter_start

    form = PeriodForm(request.GET or None)
    if not form.is_valid():
        return selectors.Period(), form
    quarter = form.cleaned_data["quarter"]
    if quarter is not None:
        return selectors.Period(start=quarter_start(quarter), end=quarter_end(quarter), label=quarter.label), form
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    label = f"{start or '…'} to {end or '…'}" if start or end else ""
    return selectors.Period(start=start, end=end, label=label), form


@roles.role_required(roles.ALL)
def kudos_index(request: AuthenticatedHttpRequest) -> HttpResponse:
    period, form = _period(request)
    summary = selectors.kudos_summary(period=period)
    recent = selectors.kudos_ledger(period=period)[:20]
    return render(
        request,
        "board/kudos_index.html",
        {
            **summary,
            "recent": recent,
            "period_form": form,
            "period": period,
            "period_query": request.GET.urlencode(),
            "can_see_internal": selectors.can_edit(request.user),
        },
    )


@roles.role_required(roles.ALL)
def kudos_person(request: AuthenticatedHttpRequest, user_id: int) -> HttpResponse:
    person = get_object_or_404(get_user_model(), pk=user_id)
    period, form = _period(request)
    kudos = selectors.kudos_ledger(period=period, user=person)
    return render(
        request,
        "board/kudos_ledger.html",
        {
            "subject": person.get_full_name() or person.get_username(),
            "person": person,
            "teams": Team.objects.filter(memberships__user=person),
            "kudos": kudos,
            "period_form": form,
            "period": period,
            "can_see_internal": selectors.can_edit(request.user),
        },
    )


@roles.role_required(roles.ALL)
def kudos_team(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    team = get_object_or_404(Team, slug=slug)
    period, form = _period(request)
    kudos = selectors.kudos_ledger(period=period, team=team)
    return render(
        request,
        "board/kudos_ledger.html",
        {
            "subject": team.name,
            "team": team,
            "kudos": kudos,
            "period_form": form,
            "period": period,
            "can_see_internal": selectors.can_edit(request.user),
        },
    )


@roles.role_required(roles.ALL)
def done(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(selectors.done_feed(), 30).get_page(request.GET.get("page"))
    return render(request, "board/done.html", {"page": page})


@feed_view(roles.ALL)
def done_atom(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The done feed as Atom, for a session or a private feed link (``?token=``)."""
    feed = Atom1Feed(
        title="Done by DevRel",
        link=f"{settings.BASE_URL}{reverse('board:done')}",
        description="Finished public tasks from the DevRel board, with thanks to the people who helped.",
        feed_url=f"{settings.BASE_URL}{reverse('board:done-atom')}",
        language="en",
    )
    for task in selectors.done_feed(limit=50):
        thanks = [f"{c.display_name} ({c.team.name})" if c.team else c.display_name for c in task.collaborators.all()]
        who = (task.owner.get_full_name() or task.owner.get_username()) if task.owner else "The DevRel team"
        text = f"{who} finished “{task.title}”."
        if thanks:
            text += " Thanks to " + ", ".join(thanks) + "."
        feed.add_item(
            title=task.title,
            link=task.absolute_url,
            description=escape(text),  # Atom1Feed declares the summary type="html": escape the text once
            unique_id=f"{task.absolute_url}#done-{task.completions}",
            pubdate=task.done_at,
            updateddate=task.done_at,
            author_name=who,
            categories=[label.name for label in task.labels.all()],
        )
    response = HttpResponse(content_type="application/atom+xml; charset=utf-8")
    feed.write(response, "utf-8")
    return response
