from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.http import require_POST

from townsquare.core import roles
from townsquare.core.confirm import Confirmation, confirmation_response
from townsquare.core.errors import TownsquareError
from townsquare.core.http import AuthenticatedHttpRequest
from townsquare.notify import services
from townsquare.notify.forms import DestinationForm
from townsquare.notify.models import Destination, Notification

# Filters over several statuses, named as the home page counts them: its figures link here.
OUTBOX_GROUPS = {
    "queued": ("Queued", Notification.QUEUED_STATUSES),
    "attention": ("Needs a look", Notification.ATTENTION_STATUSES),
}


@roles.role_required(roles.DEVREL)
def outbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    rows = Notification.objects.select_related("destination")
    if status in OUTBOX_GROUPS:
        rows = rows.filter(status__in=OUTBOX_GROUPS[status][1])
    elif status in Notification.Status.values:
        rows = rows.filter(status=status)
    elif status:
        raise Http404("unknown status")
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    groups = [(value, label) for value, (label, _) in OUTBOX_GROUPS.items()]
    context = {"page": page, "status": status, "statuses": groups + Notification.Status.choices}
    template = "notify/outbox.html#rows" if request.htmx else "notify/outbox.html"
    return render(request, template, context)


@roles.role_required(roles.DEVREL)
def notification_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(Notification.objects.select_related("destination"), pk=pk)
    return render(request, "notify/notification.html", {"notification": notification})


@require_POST
@roles.role_required(roles.DEVREL)
def notification_retry(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(Notification, pk=pk)
    try:
        services.notification_retry(notification=notification)
        messages.success(request, "Queued for another attempt.")
    except TownsquareError as exc:
        messages.error(request, str(exc))
    return redirect("notify:notification", pk=pk)


@require_POST
@roles.role_required(roles.DEVREL)
def notification_mark_sent(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(Notification, pk=pk)
    try:
        services.notification_mark_sent(notification=notification)
        messages.success(request, "Marked as sent.")
    except TownsquareError as exc:
        messages.error(request, str(exc))
    return redirect("notify:notification", pk=pk)


@roles.role_required(roles.LEADS)
def destinations(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "notify/destinations.html", {"destinations": Destination.objects.all()})


@roles.role_required(roles.LEADS)
def destination_edit(request: AuthenticatedHttpRequest, pk: int | None = None) -> HttpResponse:
    instance = get_object_or_404(Destination, pk=pk) if pk else None
    form = DestinationForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            destination = services.destination_save(
                destination=instance,
                name=form.cleaned_data["name"],
                url=form.cleaned_data["url"] or None,
                purposes=form.cleaned_data["purposes"],
                enabled=form.cleaned_data["enabled"],
                by=request.user,
            )
        except TownsquareError as exc:
            form.add_error("url", exc.message)
        else:
            messages.success(request, f"Saved destination “{destination.name}”.")
            return redirect("notify:destinations")
    return render(request, "notify/destination_form.html", {"form": form, "destination": instance})


@roles.role_required(roles.LEADS)
def destination_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return destination_edit(request, pk)


@require_POST
@roles.role_required(roles.LEADS)
def destination_test(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    destination = get_object_or_404(Destination, pk=pk)
    outcome = services.destination_test(destination=destination)
    if outcome.ok:
        messages.success(request, f"Test message sent to “{destination.name}”.")
    else:
        messages.error(request, f"Test message to “{destination.name}” failed: {outcome.error}")
    return redirect("notify:destinations")


@require_POST
@roles.role_required(roles.LEADS)
def destination_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    destination = get_object_or_404(Destination, pk=pk)
    history = destination.notifications.count()
    asked = confirmation_response(
        request,
        Confirmation(
            title=f"Delete the destination “{destination.name}”?",
            text="Townsquare stops sending to it. This cannot be undone; to pause it instead, edit it and untick Enabled.",
            consequences=[
                (
                    f"Its {history} message{pluralize(history)} in the outbox, sent or waiting, "
                    f"{pluralize(history, 'is,are')} deleted with it."
                )
            ]
            if history
            else [],
            action="Delete the destination",
            cancel_url=reverse("notify:destinations"),
        ),
    )
    if asked is not None:
        return asked
    destination.delete()
    messages.success(request, f"Deleted destination “{destination.name}”.")
    return redirect("notify:destinations")
