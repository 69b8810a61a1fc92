from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from townsquare.core import roles
from townsquare.core.confirm import Confirmation, confirmation_response
from townsquare.core.errors import TownsquareError
from townsquare.core.http import AuthenticatedHttpRequest
from townsquare.core.weeks import company_tz
from townsquare.notify.models import Destination
from townsquare.people.models import Team
from townsquare.updates.charts import questions_chart
from townsquare.updates.models import Audience, Part, Question, Update, UpdateItem
from townsquare.updates.selectors import digests as selectors
from townsquare.updates.services import digests as services

WEEKDAYS = [
    (i, d) for i, d in enumerate(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"])
]
AUDIENCE_READERS = roles.DEVREL | {roles.Role.EXECUTIVE}


class AudienceForm(forms.Form):
    name = forms.CharField(max_length=100)
    team = forms.ModelChoiceField(
        queryset=Team.objects.exclude(kind=Team.Kind.DEVREL).order_by("name"),
        required=False,
        help_text="Its members receive the update by email.",
    )
    destination = forms.ModelChoiceField(
        queryset=Destination.objects.filter(enabled=True).order_by("name"),
        required=False,
        help_text="A chat room that receives the summary.",
    )
    cadence = forms.ChoiceField(choices=Audience.Cadence.choices)
    weekday = forms.TypedChoiceField(choices=WEEKDAYS, coerce=int)
    hour = forms.IntegerField(min_value=0, max_value=23, help_text="In the company time zone.")
    parts = forms.MultipleChoiceField(
        choices=Part.choices, widget=forms.CheckboxSelectMultiple, required=False, label="Recipe"
    )
    enabled = forms.BooleanField(required=False, initial=True, label="Build drafts on schedule")


class QuestionForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=5000, label="Your question")


def update_get_for_user(request: AuthenticatedHttpRequest, pk: int) -> Update:
    try:
        return selectors.updates_visible_to(request.user).get(pk=pk)
    except Update.DoesNotExist:
        raise Http404("no such update") from None


def draft_get_for_user(request: AuthenticatedHttpRequest, pk: int) -> Update:
    update = update_get_for_user(request, pk)
    if update.is_sent:
        raise Http404("not a draft")
    return update


@roles.role_required(roles.READERS)
def index(request: AuthenticatedHttpRequest) -> HttpResponse:
    is_devrel = roles.has_role(request.user, roles.DEVREL)
    updates = selectors.updates_visible_to(request.user)
    context: dict[str, Any] = {
        "is_devrel": is_devrel,
        "drafts": list(updates.filter(status=Update.Status.DRAFT).order_by("-period_end")[:20]) if is_devrel else [],
        "sent": list(updates.filter(status=Update.Status.SENT).order_by("-period_end", "audience__name")[:30]),
        "audiences": list(Audience.objects.select_related("team", "destination")) if is_devrel else [],
        "open_questions": list(selectors.open_questions()[:20]) if is_devrel else [],
    }
    return render(request, "updates/index.html", context)


def _audience_form_initial(audience: Audience | None) -> dict[str, Any]:
    if audience is None:
        return {"cadence": Audience.Cadence.WEEKLY, "weekday": 0, "hour": 9, "parts": Part.values, "enabled": True}
    return {
        "name": audience.name,
        "team": audience.team,
        "destination": audience.destination,
        "cadence": audience.cadence,
        "weekday": audience.weekday,
        "hour": audience.hour,
        "parts": audience.parts,
        "enabled": audience.enabled,
    }


@roles.role_required(roles.DEVREL)
def audience_edit(request: AuthenticatedHttpRequest, pk: int | None = None) -> HttpResponse:
    audience = get_object_or_404(Audience, pk=pk) if pk is not None else None
    form = AudienceForm(request.POST or None, initial=_audience_form_initial(audience))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            audience = services.audience_save(
                audience=audience,
                name=data["name"],
                team=data["team"],
                destination=data["destination"],
                cadence=data["cadence"],
                weekday=data["weekday"],
                hour=data["hour"],
                parts=data["parts"],
                enabled=data["enabled"],
                by=request.user,
            )
        except TownsquareError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Saved the audience {audience.name}.")
            return redirect(audience.get_absolute_url())
    return render(request, "updates/audience_form.html", {"form": form, "audience": audience})


@roles.role_required(AUDIENCE_READERS)
def audience_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    audience = get_object_or_404(Audience.objects.select_related("team", "destination"), pk=pk)
    months = selectors.questions_per_month(audience=audience)
    context = {
        "audience": audience,
        "updates": selectors.newest_revisions(audience=audience, user=request.user),
        "months": months,
        "questions_chart": questions_chart(
            months,
            today=timezone.now().astimezone(company_tz()).date(),
            since=audience.created_at.astimezone(company_tz()).date(),
        ),
        "totals": {"asked": sum(m["asked"] for m in months), "answered": sum(m["answered"] for m in months)},
        "part_labels": [label for value, label in Part.choices if value in audience.parts],
        "is_devrel": roles.has_role(request.user, roles.DEVREL),
    }
    return render(request, "updates/audience.html", context)


@require_POST
@roles.role_required(roles.DEVREL)
def audience_build(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    audience = get_object_or_404(Audience, pk=pk)
    end = timezone.now().astimezone(company_tz()).date()
    try:
        update = services.update_build_draft(audience=audience, period_end=end, by=request.user, rebuild=True)
    except TownsquareError as exc:
        messages.error(request, str(exc))
        return redirect(audience.get_absolute_url())
    messages.success(request, f"Draft ready: {update.items.count()} items for {update.period_label}.")
    return redirect("updates:edit", update.pk)


@roles.role_required(roles.READERS)
def update_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    update = update_get_for_user(request, pk)
    context = {
        "update": update,
        **selectors.update_page(update),
        "is_devrel": roles.has_role(request.user, roles.DEVREL),
        "ask_url": reverse("updates:ask", args=[update.pk]),
        **selectors.revision_links(update, request.user),
    }
    return render(request, "updates/update.html", context)


@require_POST
@roles.role_required(roles.DEVREL)
def update_revise(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Start a correction of a sent update (confirmed first), then edit it in the draft editor."""
    update = update_get_for_user(request, pk)
    note = request.POST.get("correction_note", "")
    if note.strip() and update.is_sent and update.correction is None:
        asked = confirmation_response(
            request,
            Confirmation(
                title=f"Correct the {update}?",
                text=(
                    "A new draft revision starts with the items and note as they were sent. Nothing is sent until "
                    "you send it from the editor; then its page and messages say it is a correction."
                ),
                consequences=[
                    "The sent update stays as it was, with its questions, and its page links to the correction.",
                    "A draft correction cannot be discarded, and this revision can be corrected only once.",
                ],
                action="Start the correction",
                cancel_url=update.get_absolute_url(),
                danger=False,
            ),
        )
        if asked is not None:
            return asked
    try:
        revision = services.update_revise(update=update, by=request.user, correction_note=note)
    except TownsquareError as exc:
        messages.error(request, str(exc))
        return redirect(update.get_absolute_url())
    messages.success(request, f"Correction {revision.correction_number} started: edit it, then send it.")
    return redirect("updates:edit", revision.pk)


def _draft_edits(request: AuthenticatedHttpRequest, update: Update) -> tuple[dict[int, services.ItemEdit], list[int]]:
    edits: dict[int, services.ItemEdit] = {}
    for pk in update.items.values_list("pk", flat=True):
        if f"title-{pk}" in request.POST:
            edits[pk] = services.ItemEdit(
                title=request.POST.get(f"title-{pk}", ""), body=request.POST.get(f"body-{pk}", "")
            )
    remove = [int(v) for v in request.POST.getlist("remove") if v.isdigit()]
    return edits, remove


@roles.role_required(roles.DEVREL)
def draft_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    update = draft_get_for_user(request, pk)
    if request.method == "POST":
        edits, remove = _draft_edits(request, update)
        try:
            changed = services.update_draft_save(
                update=update, note=request.POST.get("note"), items=edits, remove=remove
            )
        except TownsquareError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Saved the draft ({changed} item{'s' if changed != 1 else ''} changed).")
            if request.POST.get("action") == "send":
                return _send(request, update)
        return redirect("updates:edit", update.pk)
    items = list(update.items.order_by("position"))
    context = {
        "update": update,
        "items": items,
        "headings": services.PART_HEADINGS,
        "recipients": services.update_recipients(update=update),
    }
    return render(request, "updates/edit.html", context)


def _send(request: AuthenticatedHttpRequest, update: Update) -> HttpResponse:
    try:
        outcome = services.update_send(update=update, by=request.user)
    except TownsquareError as exc:
        messages.error(request, str(exc))
        return redirect("updates:edit", update.pk)
    if outcome.sent_now:
        messages.success(request, f"Sent: {len(outcome.notifications)} messages are on their way.")
    else:
        messages.info(request, "This update was already sent.")
    return redirect(update.get_absolute_url())


@require_POST
@roles.role_required(roles.DEVREL)
def draft_send(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _send(request, draft_get_for_user(request, pk))


@roles.role_required(roles.READERS)
def ask(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The "what else do you need?" form; ``?item=`` makes it "ask DevRel about this" item."""
    update = update_get_for_user(request, pk)
    item_id = request.POST.get("item") or request.GET.get("item") or ""
    item = UpdateItem.objects.filter(update=update, pk=int(item_id)).first() if item_id.isdigit() else None
    form = QuestionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            question = services.question_ask(update=update, by=request.user, text=form.cleaned_data["text"], item=item)
        except TownsquareError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Thanks: DevRel has your question and will answer here.")
            return redirect(f"{update.get_absolute_url()}#question-{question.pk}")
    return render(request, "updates/ask.html", {"update": update, "item": item, "form": form})


def _question_for_devrel(pk: int) -> Question:
    return get_object_or_404(Question.objects.select_related("update__audience", "item", "asked_by", "team"), pk=pk)


def _question_response(request: AuthenticatedHttpRequest, question: Question) -> HttpResponse:
    if request.htmx:
        question.refresh_from_db()
        return render(request, "updates/_question.html", {"question": question, "is_devrel": True})
    return redirect(f"{question.update.get_absolute_url()}#question-{question.pk}")


@require_POST
@roles.role_required(roles.DEVREL)
def question_answer(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    question = _question_for_devrel(pk)
    try:
        services.question_answer(question=question, by=request.user, answer=request.POST.get("answer", ""))
    except TownsquareError as exc:
        messages.error(request, str(exc))
        if request.htmx:
            return render(
                request, "updates/_question.html", {"question": question, "is_devrel": True, "error": str(exc)}
            )
    return _question_response(request, question)


CONVERSIONS = {
    "request": services.question_to_request,
    "task": services.question_to_task,
}


@require_POST
@roles.role_required(roles.DEVREL)
def question_convert(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    question = _question_for_devrel(pk)
    to = request.POST.get("to", "")
    try:
        if to == "feedback":
            theme = request.POST.get("theme", "")
            services.question_to_feedback(
                question=question, by=request.user, theme_id=int(theme) if theme.isdigit() else None
            )
        elif to in CONVERSIONS:
            CONVERSIONS[to](question=question, by=request.user)
        else:
            raise TownsquareError(f"question {question.pk}: unknown conversion {to!r}", record=f"question {pk}")
    except TownsquareError as exc:
        if request.htmx:
            return render(
                request, "updates/_question.html", {"question": question, "is_devrel": True, "error": str(exc)}
            )
        messages.error(request, str(exc))
    return _question_response(request, question)
