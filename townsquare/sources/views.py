from __future__ import annotations

import re
import shutil
import uuid
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from townsquare.core import hooks, roles
from townsquare.core.errors import TownsquareError
from townsquare.core.http import AuthenticatedHttpRequest
from townsquare.people.models import Member
from townsquare.people.selectors import member_with_identities
from townsquare.sources import selectors, services
from townsquare.sources.detect import archive_kind_detect
from townsquare.sources.forms import KindChoiceForm, MessageFilterForm, SourceForm, UploadForm, kind_settings
from townsquare.sources.models import Message, Source, SyncRun
from townsquare.sources.tasks import sync_source_task


@roles.role_required(roles.DEVREL)
def index(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "sources/index.html", {"sources": selectors.sources_with_health()})


@roles.role_required(roles.DEVREL)
def source_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(Source, pk=pk)
    page = Paginator(source.runs.all(), 25).get_page(request.GET.get("page"))
    context = {
        "source": source,
        "page": page,
        "message_count": source.messages.count(),
        "channel_count": source.channels.count(),
        "can_sync": services.source_can_sync(source=source),
    }
    return render(request, "sources/source.html", context)


def _queue(source: Source, path: str | None = None) -> SyncRun:
    run = services.run_start(source=source, status=SyncRun.Status.QUEUED, upload=path or "")
    transaction.on_commit(partial(sync_source_task.enqueue, source.pk, run.pk, path))
    return run


@require_POST
@roles.role_required(roles.DEVREL)
def source_sync(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(Source, pk=pk)
    if not services.source_can_sync(source=source):
        messages.error(request, "This source has nothing to sync: upload its archive instead.")
        return redirect("sources:source", pk=pk)
    try:
        run = _queue(source)
    except TownsquareError as exc:
        messages.error(request, str(exc))
        return redirect("sources:source", pk=pk)
    messages.success(request, "Sync queued.")
    return redirect("sources:run", pk=run.pk)


@roles.role_required(roles.DEVREL)
def source_edit(request: AuthenticatedHttpRequest, pk: int | None = None) -> HttpResponse:
    """Add or edit a source through its kind's own fields.

    Adding starts with the kind: without one (or without JavaScript) the page is a kind-choice step, and
    picking a kind reloads it with that kind's fields; with HTMX, the fields are swapped in place.
    """
    source = get_object_or_404(Source, pk=pk) if pk else None
    kind = source.kind if source else (request.POST.get("kind") or request.GET.get("kind") or "")
    picker = KindChoiceForm(initial={"kind": kind})
    context: dict[str, Any] = {"source": source, "picker": picker, "kinds": kind_settings(), "form": None}
    if kind not in Source.Kind.values:
        if kind:
            picker = KindChoiceForm({"kind": kind})
            picker.is_valid()
            context["picker"] = picker
        return render(
            request, "sources/source_form.html#setup" if request.htmx else "sources/source_form.html", context
        )
    form = SourceForm(request.POST or None, kind=kind, source=source)
    context.update(form=form, kind_label=Source.Kind(kind).label, check_result="")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        config = form.config_for(source.config if source else None)
        secrets = form.secrets_for(source.secrets if source else "")
        if "test" in request.POST:
            probe = Source(
                name=data["name"],
                kind=kind,
                config=config,
                secrets=secrets if secrets is not None else (source.secrets if source else ""),
            )
            probe.pk = source.pk if source else None
            try:
                context["check_result"] = services.source_check(source=probe)
            except TownsquareError as exc:
                form.add_error(None, f"Connection test failed: {exc}")
        else:
            try:
                if source is None:
                    source = services.source_create(
                        kind=kind,
                        name=data["name"],
                        config=config,
                        secrets=secrets or "",
                        schedule=data["schedule"],
                        enabled=data["enabled"],
                    )
                else:
                    services.source_update(
                        source=source,
                        name=data["name"],
                        config=config,
                        schedule=data["schedule"],
                        enabled=data["enabled"],
                        secrets=secrets,
                    )
                messages.success(request, "Source saved.")
                return redirect("sources:source", pk=source.pk)
            except TownsquareError as exc:
                form.add_error(None, str(exc))
    template = (
        "sources/source_form.html#setup" if request.htmx and request.method == "GET" else "sources/source_form.html"
    )
    return render(request, template, context)


@roles.role_required(roles.DEVREL)
def upload(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Upload an archive into a source; its kind is recognised from its content unless the user picks one."""
    initial = {}
    source_pk = _int(request.GET.get("source"))
    into = Source.objects.filter(pk=source_pk).first() if source_pk is not None else None
    if into is not None:
        initial = {"name": into.name, "kind": into.kind}
    form = UploadForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        upload_file = form.cleaned_data["archive"]
        folder = Path(settings.DATA_DIR) / "uploads" / uuid.uuid4().hex
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / _upload_name(upload_file.name or "")
        with target.open("wb") as handle:
            for chunk in upload_file.chunks():
                handle.write(chunk)
        kind, note = form.cleaned_data["kind"], ""
        if not kind:
            found = archive_kind_detect(target, name=upload_file.name or "")
            if found is None:
                shutil.rmtree(folder, ignore_errors=True)
                form.add_error("kind", "Townsquare could not tell what kind of archive this is: pick its kind.")
                return render(request, "sources/upload.html", {"form": form})
            kind = found.kind
            note = f"Recognised {Source.Kind(kind).label} from its content ({found.evidence}). "
        name = form.cleaned_data["name"] or f"{kind}: {upload_file.name}"
        try:
            with transaction.atomic():
                source, _ = services.source_get_or_create(kind=kind, name=name)
                run = _queue(source, str(target))
        except TownsquareError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            form.add_error(None, f"{note}{exc}")
        else:
            override = "Not right? Upload it again and pick its kind. " if note else ""
            messages.success(request, f"{note}{override}The import runs in the background.")
            return redirect("sources:run", pk=run.pk)
    return render(request, "sources/upload.html", {"form": form})


def _upload_name(name: str) -> str:
    """A safe file name that keeps what connectors read from it: a channel's ``#`` (``#fluid-work.2019-03-01.log``)."""
    safe = re.sub(r"[^\w.#-]", "_", Path(name.replace("\\", "/")).name).strip("._")
    return safe or "archive"


@roles.role_required(roles.DEVREL)
def run_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(SyncRun.objects.select_related("source"), pk=pk)
    if request.htmx and request.GET.get("part") == "progress":
        response = render(request, "sources/run.html#progress", {"run": run})
        if not run.is_active:
            response["HX-Refresh"] = "true"  # once, when it ends: its errors and the themes' status appear
        return response
    errors = Paginator(run.errors.all(), 100).get_page(request.GET.get("page"))
    return render(request, "sources/run.html", {"run": run, "errors": errors, "themes": _themes_status(run)})


def _themes_status(run: SyncRun) -> dict[str, Any] | None:
    """When the source's messages become feedback themes (feedback answers through a hook), once the run is over."""
    if run.is_active:
        return None
    answers = hooks.messages_processing_status.call(source_id=run.source_id)
    return answers[0][1] if answers else None


@require_POST
@roles.role_required(roles.DEVREL)
def run_process(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """ "Process now": queue the feedback sweep rather than wait for its schedule."""
    run = get_object_or_404(SyncRun, pk=pk)
    if any(queued for _, queued in hooks.messages_process_requested.call()):
        messages.success(request, "Processing queued: the themes update once the worker has read these messages.")
    else:
        messages.error(request, "Nothing processes messages into themes on this installation.")
    return redirect("sources:run", pk=run.pk)


@roles.role_required(roles.DEVREL)
def message_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = MessageFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    rows = selectors.messages_filtered(
        q=filters.get("q") or "",
        source=filters.get("source"),
        kind=filters.get("kind") or "",
        channel_id=_int(request.GET.get("channel")),
    )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    template = "sources/messages.html#rows" if request.htmx else "sources/messages.html"
    return render(request, template, context)


@roles.role_required(roles.DEVREL)
def message_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(Message.objects.select_related("source", "channel", "author__member"), pk=pk)
    thread = []
    if message.thread_external_id:
        thread = list(
            Message.objects.filter(source=message.source_id, thread_external_id=message.thread_external_id)
            .exclude(pk=message.pk)
            .select_related("author")
            .order_by("created_at")[:50]
        )
    return render(request, "sources/message.html", {"message": message, "thread": thread})


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@roles.role_required(roles.DEVREL)
def member_messages(request: AuthenticatedHttpRequest, member_pk: int) -> HttpResponse:
    """A member's messages across channels: the section people's member page loads, or a page of its own.

    people sits below sources and may not read messages, so its member page asks this URL for them.
    """
    try:
        member = member_with_identities(pk=member_pk)
    except Member.DoesNotExist:
        raise Http404("no such member") from None
    page, channel_counts = selectors.member_messages_page(member=member, page=request.GET.get("page"))
    context = {"member": member, "page": page, "channel_counts": channel_counts}
    if page.number == 1:  # the overview sits above the first page only, not above every "Older" page
        context["activity"] = selectors.member_monthly_activity(member=member)
    template = "sources/member_messages.html#messages" if request.htmx else "sources/member_messages.html"
    return render(request, template, context)
