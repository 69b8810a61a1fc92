"""Value → Downloads: downloads month by month beside community activity; packages and fetches for the lead."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from townsquare.core import roles
from townsquare.core.errors import TownsquareError
from townsquare.core.exports import csv_response
from townsquare.core.http import AuthenticatedHttpRequest
from townsquare.metrics import panels
from townsquare.metrics.downloads_forms import PackageEditForm, PackageForm
from townsquare.metrics.models import TrackedPackage
from townsquare.metrics.selectors import downloads as selectors
from townsquare.metrics.services import downloads as services
from townsquare.metrics.tasks import fetch_downloads_task

WINDOWS = (12, 24, 36)


def _window(request: AuthenticatedHttpRequest) -> int:
    text = request.GET.get("months", "")
    return int(text) if text.isdigit() and int(text) in WINDOWS else selectors.DEFAULT_MONTHS


@roles.role_required(roles.VALUE_READERS)
def downloads(request: AuthenticatedHttpRequest, form: PackageForm | None = None, status: int = 200) -> HttpResponse:
    overview = selectors.downloads_overview(months=_window(request))
    if getattr(request, "htmx", False) and request.GET.get("part") == "status":
        return render(request, "metrics/downloads.html#status", {"overview": overview})
    context: dict[str, Any] = {
        "overview": overview,
        "window": _window(request),
        "windows": WINDOWS,
        "figures_panel": panels.downloads_panel(overview) if overview.has_figures else None,
        "can_manage": roles.has_role(request.user, roles.LEADS),
        "form": form or PackageForm(),
    }
    return render(request, "metrics/downloads.html", context, status=status)


@roles.role_required(roles.VALUE_READERS)
def downloads_export(request: AuthenticatedHttpRequest) -> StreamingHttpResponse:
    overview = selectors.downloads_overview(months=_window(request))
    return csv_response("downloads-by-month.csv", overview.table_header(), overview.table_rows())


@require_POST
@roles.role_required(roles.LEADS)
def downloads_fetch(request: AuthenticatedHttpRequest) -> HttpResponse:
    run, created = services.fetch_run_request(by=request.user)
    if created:
        transaction.on_commit(partial(fetch_downloads_task.enqueue, run.pk))
        messages.success(request, "Fetch queued: the figures update when it finishes.")
    else:
        messages.info(request, "A fetch is already under way.")
    return redirect("metrics:downloads")


@require_POST
@roles.role_required(roles.LEADS)
def package_add(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = PackageForm(request.POST)
    if not form.is_valid():
        return downloads(request, form=form, status=400)
    try:
        package = services.package_add(
            registry=form.cleaned_data["registry"], name=form.cleaned_data["name"], label=form.cleaned_data["label"]
        )
    except TownsquareError as exc:
        form.add_error("name" if exc.record == "name" else None, exc.message)
        return downloads(request, form=form, status=400)
    messages.success(request, f"Tracking {package.display_name}; its figures arrive with the next fetch.")
    return redirect("metrics:downloads")


@require_POST
@roles.role_required(roles.LEADS)
def package_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    package = get_object_or_404(TrackedPackage, pk=pk)
    form = PackageEditForm(request.POST)
    if form.is_valid():
        services.package_update(package=package, label=form.cleaned_data["label"], enabled=form.cleaned_data["enabled"])
        messages.success(request, f"{package.display_name}: {'fetched daily' if package.enabled else 'paused'}.")
    return redirect("metrics:downloads")


@require_POST
@roles.role_required(roles.LEADS)
def package_remove(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    package = get_object_or_404(TrackedPackage, pk=pk)
    name = package.display_name
    services.package_remove(package=package)
    messages.success(request, f"Stopped tracking {name} and removed its figures.")
    return redirect("metrics:downloads")
