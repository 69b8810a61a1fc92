from __future__ import annotations

import csv
import logging
import re
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from townsquare.core import roles
from townsquare.core.confirm import Confirmation, confirmation_response
from townsquare.core.errors import TownsquareError
from townsquare.core.exports import csv_response
from townsquare.core.http import AuthenticatedHttpRequest
from townsquare.people import selectors, services
from townsquare.people.crm import accounts_import_csv, mapping_guess
from townsquare.people.forms import (
    AccountsImportForm,
    DirectoryForm,
    EraseForm,
    MappingForm,
    MergeForm,
    SegmentForm,
    SplitForm,
)
from townsquare.people.models import (
    Account,
    ErasureRecord,
    Member,
    MergeRecord,
    MergeSuggestion,
    Organization,
    Segment,
    Team,
)
from townsquare.people.selectors import DirectoryFilters

log = logging.getLogger(__name__)


@roles.role_required(roles.ALL)
def teams(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "people/teams.html", {"teams": selectors.teams_with_counts()})


@roles.role_required(roles.ALL)
def team(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    try:
        found = selectors.team_with_members(slug=slug)
    except Team.DoesNotExist:
        raise Http404("no such team") from None
    return render(request, "people/team.html", {"team": found})


# ---------------------------------------------------------------- directory and member page
# Who may see what: people data (names, emails, every message) is for DevRel; organisations and
# customer accounts (company-level facts) are readable by every reader (stakeholders, executives);
# GDPR erasure/export and the CRM import are for DevRel leads.


def _filters(form: DirectoryForm) -> DirectoryFilters:
    if not form.is_valid():
        return DirectoryFilters()
    data = form.cleaned_data
    return DirectoryFilters(
        q=data["q"] or "",
        organization=data["organization"],
        tier=data["tier"] or "",
        staff=data["staff"] or "",
        channel=data["channel"] or "",
        sort=data["sort"] or selectors.DEFAULT_SORT,
        activity=data["activity"] or "",
    )


def _query_of(filters: DirectoryFilters) -> str:
    """The directory's query string for ``filters``: only what is set, in one order (a segment's identity)."""
    fields = {
        "q": filters.q.strip(),
        "organization": filters.organization or "",
        "tier": filters.tier,
        "staff": filters.staff,
        "channel": filters.channel,
        "activity": filters.activity,
        "sort": "" if filters.sort == selectors.DEFAULT_SORT else filters.sort,
    }
    return urlencode({key: value for key, value in fields.items() if value})


@roles.role_required(roles.DEVREL)
def directory(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = DirectoryForm(request.GET or None, channels=selectors.channel_kinds())
    filters = _filters(form)
    page = selectors.member_directory_page(filters=filters, page=request.GET.get("page"))
    organization = Organization.objects.filter(pk=filters.organization).first() if filters.organization else None
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "filters": filters,
        "organization": organization,
        "query": query.urlencode(),
        "open_suggestions": MergeSuggestion.objects.filter(status=MergeSuggestion.Status.OPEN).count(),
    }
    context["segments"] = list(selectors.segments_visible(user=request.user))
    context["current_query"] = _query_of(filters)
    context["segment_form"] = SegmentForm(initial={"query": context["current_query"]})
    template = "people/directory.html#rows" if request.htmx and not request.htmx.boosted else "people/directory.html"
    return render(request, template, context)


DIRECTORY_EXPORT_HEADER = (
    "member id",
    "name",
    "email",
    "organisation",
    "customer tier",
    "staff",
    "bot",
    "channels",
    "handles",
    "messages",
    "first seen",
    "last seen",
)


@roles.role_required(roles.DEVREL)
def directory_export(request: AuthenticatedHttpRequest) -> StreamingHttpResponse:
    """The directory (or a segment) as CSV: the page's filters and order, every matching member, streamed."""
    filters = _filters(DirectoryForm(request.GET or None, channels=selectors.channel_kinds()))

    def rows() -> Iterator[list[Any]]:
        for m in selectors.member_directory_rows(filters=filters):
            account = getattr(m.organization, "account", None) if m.organization_id else None
            yield [
                m.pk,
                m.display_name,
                m.primary_email,
                m.organization.name if m.organization else "",
                account.get_tier_display() if account else "",
                m.is_staff,
                m.is_bot,
                " ".join(m.channels),  # type: ignore[attr-defined]
                " ".join(i.handle or i.external_id for i in m.identity_list),  # type: ignore[attr-defined]
                m.message_count,  # type: ignore[attr-defined]
                m.first_seen.isoformat() if m.first_seen else "",
                m.last_seen.isoformat() if m.last_seen else "",
            ]

    return csv_response("people.csv", DIRECTORY_EXPORT_HEADER, rows())


@roles.role_required(roles.DEVREL)
@require_POST
def segment_save(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = SegmentForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("name", ["A segment needs a name."]):
            messages.error(request, str(error))
        back = _query_of(
            _filters(DirectoryForm(QueryDict(request.POST.get("query", "")), channels=selectors.channel_kinds()))
        )
        return redirect(reverse("people:directory") + (f"?{back}" if back else ""))
    # The query is re-read through the directory's form, so a segment holds only filters the directory knows.
    cleaned = _query_of(
        _filters(DirectoryForm(QueryDict(form.cleaned_data["query"]), channels=selectors.channel_kinds()))
    )
    segment = Segment.objects.create(
        name=form.cleaned_data["name"], query=cleaned, shared=form.cleaned_data["shared"], created_by=request.user
    )
    messages.success(request, f"Saved the segment {segment.name!r}.")
    return redirect(segment.get_absolute_url())


@roles.role_required(roles.DEVREL)
@require_POST
def segment_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    segment = get_object_or_404(Segment, pk=pk)
    if segment.created_by_id != request.user.pk and not roles.has_role(request.user, roles.LEADS):
        raise PermissionDenied("Only the segment's author or a DevRel lead can delete it.")
    asked = confirmation_response(
        request,
        Confirmation(
            title=f"Delete the segment “{segment.name}”?",
            text="Its link stops working for everyone it was shared with. The people in it are not affected.",
            action="Delete",
            cancel_url=segment.get_absolute_url(),
        ),
    )
    if asked is not None:
        return asked
    segment.delete()
    messages.success(request, f"Deleted the segment {segment.name!r}.")
    return redirect("people:directory")


def _member_or_404(pk: int) -> Member:
    try:
        return selectors.member_with_identities(pk=pk)
    except Member.DoesNotExist:
        raise Http404("no such member") from None


@roles.role_required(roles.DEVREL)
def member(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    found = _member_or_404(pk)
    # The member's messages are sources' (above people): the template loads them from its URL by name.
    context = {
        "member": found,
        "history": selectors.member_history(member=found)[:20],
        "account": getattr(found.organization, "account", None) if found.organization_id else None,
    }
    return render(request, "people/member.html", context)


@roles.role_required(roles.DEVREL)
def member_merge(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    found = _member_or_404(pk)
    form = MergeForm(request.POST or None, member=found)
    if request.method == "POST" and form.is_valid():
        other = form.cleaned_data["other"]
        asked = confirmation_response(
            request,
            Confirmation(
                title=f"Merge {other.display_name} into {found.display_name}?",
                text=f"{other.display_name}'s identities and messages move to {found.display_name}, and "
                f"{other.display_name} leaves the directory. You can undo it from the merge history.",
                action="Merge",
                cancel_url=found.get_absolute_url(),
                danger=False,
            ),
        )
        if asked is not None:
            return asked
        try:
            services.member_merge(source=other, target=found, by=request.user)
        except TownsquareError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Merged {form.cleaned_data['other'].display_name} into this member.")
            return redirect(found.get_absolute_url())
    q = request.GET.get("q", "").strip()
    candidates: list[Member] = []
    if q:
        rows = selectors.member_directory(filters=DirectoryFilters(q=q)).exclude(pk=found.pk)[:20]
        candidates = selectors.member_directory_page_details(list(rows))
    context = {"member": found, "form": form, "q": q, "candidates": candidates}
    template = "people/member_merge.html#candidates" if request.htmx else "people/member_merge.html"
    return render(request, template, context)


@roles.role_required(roles.DEVREL)
def member_split(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    found = _member_or_404(pk)
    form = SplitForm(request.POST or None, member=found)
    if request.method == "POST" and form.is_valid():
        try:
            record = services.member_split(
                member=found, identity_ids=[i.pk for i in form.cleaned_data["identities"]], by=request.user
            )
        except TownsquareError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Split into a new member. Undo it from the history if that was wrong.")
            return redirect("people:member", pk=record.target_id)
    return render(request, "people/member_split.html", {"member": found, "form": form})


@roles.role_required(roles.DEVREL)
def merges(request: AuthenticatedHttpRequest) -> HttpResponse:
    rows = MergeRecord.objects.select_related("target", "by", "undone_by")
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "people/merges.html", {"page": page})


@require_POST
@roles.role_required(roles.DEVREL)
def merge_undo(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(MergeRecord, pk=pk)
    try:
        restored = services.merge_undo(record=record, by=request.user)
    except TownsquareError as exc:
        messages.error(request, str(exc))
        return redirect("people:merges")
    messages.success(
        request,
        f"Undone: {restored.display_name} is separate again."
        if record.action == "merge"
        else "Undone: the identities are back with this member.",
    )
    return redirect(restored.get_absolute_url())


@roles.role_required(roles.DEVREL)
def suggestions(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(selectors.open_suggestions(), 25).get_page(request.GET.get("page"))
    return render(request, "people/suggestions.html", {"page": page})


@require_POST
@roles.role_required(roles.DEVREL)
def suggestion_decide(request: AuthenticatedHttpRequest, pk: int, decision: str) -> HttpResponse:
    suggestion = get_object_or_404(MergeSuggestion.objects.select_related("member_a", "member_b"), pk=pk)
    if decision == "accept":
        a, b = sorted((suggestion.member_a, suggestion.member_b), key=lambda m: m.pk)  # the older one stays
        asked = confirmation_response(
            request,
            Confirmation(
                title=f"Merge {b.display_name} into {a.display_name}?",
                text=f"Suggested because of the {suggestion.reason}. A same handle is only a hint: merge them if "
                "they are one person. You can undo it from the merge history.",
                action="Merge",
                cancel_url=reverse("people:suggestions"),
                danger=False,
            ),
        )
        if asked is not None:
            return asked
    try:
        if decision == "accept":
            record = services.merge_suggestion_accept(suggestion=suggestion, by=request.user)
            messages.success(request, f"Merged into {record.target.display_name if record.target else 'the member'}.")
        elif decision == "reject":
            services.merge_suggestion_reject(suggestion=suggestion, by=request.user)
            messages.success(request, "Kept apart; this pair will not be suggested again.")
        else:
            raise Http404("unknown decision")
    except TownsquareError as exc:
        messages.error(request, str(exc))
    return redirect("people:suggestions")


# ---------------------------------------------------------------- GDPR (DevRel leads)


@roles.role_required(roles.LEADS)
def member_erase(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    found = _member_or_404(pk)
    form = EraseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            record = services.member_erase(member=found, by=request.user, reason=form.cleaned_data["reason"])
        except TownsquareError as exc:
            form.add_error("reason", exc.message)
        else:
            messages.success(
                request,
                f"Erased: {record.identity_count} identities and {record.message_count} "
                f"messages deleted. The audit log keeps only these counts.",
            )
            return redirect("people:erasures")
    message_count = selectors.member_message_counts(member_ids=[found.pk]).get(found.pk, 0)
    return render(request, "people/member_erase.html", {"member": found, "form": form, "message_count": message_count})


@roles.role_required(roles.LEADS)
def member_export(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    found = _member_or_404(pk)
    if request.method != "POST":
        return render(request, "people/member_export.html", {"member": found})
    data = services.member_export(member=found)
    log.info("member %s exported by user %s", found.pk, request.user.pk)
    response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="townsquare-member-{found.pk}.json"'
    return response


@roles.role_required(roles.LEADS)
def erasures(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(ErasureRecord.objects.select_related("by"), 50).get_page(request.GET.get("page"))
    return render(request, "people/erasures.html", {"page": page})


# ---------------------------------------------------------------- organisations and accounts


@roles.role_required(roles.READERS)
def organizations(request: AuthenticatedHttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    page = Paginator(selectors.organizations_with_counts(q=q), 50).get_page(request.GET.get("page"))
    template = "people/organizations.html#rows" if request.htmx else "people/organizations.html"
    return render(request, template, {"page": page, "q": q})


@roles.role_required(roles.READERS)
def organization(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    found = get_object_or_404(Organization.objects.select_related("account").prefetch_related("domains"), pk=pk)
    people = Member.objects.filter(organization=found).order_by("display_name", "pk")
    page = Paginator(people, 50).get_page(request.GET.get("page"))
    selectors.member_directory_page_details(list(page.object_list))
    return render(
        request,
        "people/organization.html",
        {
            "organization": found,
            "page": page,
            "account": getattr(found, "account", None),
        },
    )


@roles.role_required(roles.READERS)
def accounts(request: AuthenticatedHttpRequest) -> HttpResponse:
    tier = request.GET.get("tier", "")
    if tier and tier not in Account.Tier.values:
        raise Http404("unknown tier")
    page = Paginator(selectors.accounts_list(tier=tier), 50).get_page(request.GET.get("page"))
    return render(request, "people/accounts.html", {"page": page, "tier": tier, "tiers": Account.Tier.choices})


_UPLOAD_DIR = "crm-imports"
_TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")


def _upload_path(token: str) -> str:
    if not _TOKEN_RE.match(token):
        raise Http404("unknown upload")
    return f"{_UPLOAD_DIR}/{token}.csv"


def _csv_headers(name: str) -> list[str]:
    with default_storage.open(name, "rb") as handle:
        first = handle.readline(65536).decode("utf-8-sig", errors="replace")
    if not first.strip():
        return []
    try:
        dialect: Any = csv.Sniffer().sniff(first, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [h.strip() for h in next(csv.reader([first], dialect=dialect), [])]


@roles.role_required(roles.LEADS)
def accounts_import(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Upload a CRM CSV, map its columns, preview a dry run, then import."""
    token = request.POST.get("token", "")
    if request.method == "POST" and not token:
        upload_form = AccountsImportForm(request.POST, request.FILES)
        if not upload_form.is_valid():
            return render(request, "people/accounts_import.html", {"upload_form": upload_form})
        token = uuid.uuid4().hex
        default_storage.save(_upload_path(token), upload_form.cleaned_data["file"])
        headers = _csv_headers(_upload_path(token))
        mapping_form = MappingForm(headers=headers, initial_mapping=mapping_guess(headers))
        return _import_step(request, token, mapping_form, headers, upload_form.cleaned_data["file"].name, run=False)
    if request.method == "POST":
        name = _upload_path(token)
        if not default_storage.exists(name):
            messages.error(request, "That upload has expired; upload the file again.")
            return redirect("people:accounts-import")
        headers = _csv_headers(name)
        mapping_form = MappingForm(request.POST, headers=headers, initial_mapping={})
        return _import_step(
            request,
            token,
            mapping_form,
            headers,
            request.POST.get("filename", ""),
            run=request.POST.get("action") == "import",
        )
    return render(request, "people/accounts_import.html", {"upload_form": AccountsImportForm()})


def _import_step(
    request: AuthenticatedHttpRequest,
    token: str,
    mapping_form: MappingForm,
    headers: list[str],
    filename: str,
    *,
    run: bool,
) -> HttpResponse:
    name = _upload_path(token)
    report = None
    error = ""
    mapping: dict[str, str] | None = None
    if not mapping_form.is_bound:
        mapping = mapping_guess(headers)
    elif mapping_form.is_valid():
        mapping = mapping_form.mapping()
        if mapping_form.errors:
            mapping = None
    if mapping is not None:
        try:
            with default_storage.open(name, "rb") as handle:
                report = accounts_import_csv(path_or_file=handle, mapping=mapping, dry_run=not run)
        except TownsquareError as exc:
            error = str(exc)
    if run and report is not None:
        default_storage.delete(name)
        messages.success(
            request,
            f"Imported: {report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged, {len(report.errors)} bad rows skipped.",
        )
        return render(request, "people/accounts_import.html", {"report": report, "done": True})
    return render(
        request,
        "people/accounts_import.html",
        {
            "mapping_form": mapping_form,
            "token": token,
            "filename": filename,
            "report": report,
            "error": error,
            "headers": headers,
        },
    )
