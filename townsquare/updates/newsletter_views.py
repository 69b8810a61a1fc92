"""Pages of the link drop and the newsletter: the marketer writes, DevRel reviews, every reader reads."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from townsquare.core import roles
from townsquare.core.errors import TownsquareError
from townsquare.core.http import AuthenticatedHttpRequest
from townsquare.people.models import Identity
from townsquare.updates import slack
from townsquare.updates.models import DroppedLink, Newsletter, ReviewComment
from townsquare.updates.newsletter_export import newsletter_html, newsletter_markdown
from townsquare.updates.newsletter_forms import CommentForm, DecisionForm, LinkDropForm, NewsletterForm, SectionForm
from townsquare.updates.selectors import newsletter as selectors
from townsquare.updates.services import newsletter as services

logger = logging.getLogger(__name__)
WRITERS = roles.DEVREL | roles.STAKEHOLDERS


@roles.role_required(roles.READERS)
def links_index(request: AuthenticatedHttpRequest) -> HttpResponse:
    can_drop = selectors.can_drop_links(request.user)
    form = LinkDropForm(request.POST or None)
    if request.method == "POST":
        if not can_drop:
            raise PermissionDenied("Your role may read dropped links but not drop them.")
        if form.is_valid():
            try:
                link = services.link_drop(url=form.cleaned_data["url"], note=form.cleaned_data["note"], by=request.user)
            except TownsquareError as exc:
                form.add_error("url", str(exc))
            else:
                messages.success(request, f"Dropped {link.url}: the marketer will see it.")
                return redirect("updates:links")
    page = Paginator(selectors.links_recent(), 50).get_page(request.GET.get("page"))
    return render(request, "updates/newsletter/links.html", {"form": form, "page": page, "can_drop": can_drop})


def _slack_user(form: dict[str, str]) -> User | None:
    """The Townsquare login of a Slack user: a known Slack identity's email, else the same user name."""
    user_id, team_id, name = form.get("user_id", ""), form.get("team_id", ""), form.get("user_name", "")
    users = get_user_model().objects.filter(is_active=True)
    if user_id:
        identity = Identity.objects.filter(realm=f"slack:{team_id}", external_id=user_id).exclude(email="").first()
        if identity is not None:
            user = users.filter(email__iexact=identity.email).first()
            if user is not None:
                return user
    return users.filter(username=name).first() if name else None


@login_not_required
@csrf_exempt
@require_POST
def slack_command(request: HttpRequest) -> HttpResponse:
    """Slack's Request URL for ``/townsquare``: login-exempt, so every request must carry Slack's signature."""
    try:
        slack.signature_verify(
            secret=settings.SLACK_SIGNING_SECRET,
            timestamp=request.headers.get("X-Slack-Request-Timestamp", ""),
            signature=request.headers.get("X-Slack-Signature", ""),
            body=request.body,
        )
    except TownsquareError as exc:
        logger.warning("updates: slack command refused: %s", exc.message)
        return HttpResponse(exc.message, status=401, content_type="text/plain")
    form = {key: request.POST.get(key, "") for key in ("text", "user_id", "user_name", "team_id")}
    user = _slack_user(form)
    try:
        drop = slack.parse_drop(form["text"])
        link = services.link_drop(
            url=drop.url,
            note=drop.note,
            by=user,
            via=DroppedLink.Via.SLACK,
            slack_user="" if user else f"{form['user_name'] or form['user_id']} (Slack)",
        )
    except TownsquareError as exc:
        text = f"Not dropped: {exc}"
    else:
        text = f"Dropped {link.url} for the newsletter. Thanks!"
    # Slack shows an ephemeral answer only to the person who typed the command.
    return JsonResponse({"response_type": "ephemeral", "text": text})


@roles.role_required(roles.READERS)
def newsletter_index(request: AuthenticatedHttpRequest) -> HttpResponse:
    marketer = selectors.is_marketer(request.user)
    form = NewsletterForm(request.POST or None, initial=NewsletterForm.initial_now())
    if request.method == "POST":
        if not marketer:
            raise PermissionDenied("Only the community marketer starts a newsletter issue.")
        if form.is_valid():
            try:
                issue = services.newsletter_create(by=request.user, **form.cleaned_data)
            except TownsquareError as exc:
                form.add_error(None, str(exc))
            else:
                return redirect(issue)
    page = Paginator(selectors.newsletter_list(), 25).get_page(request.GET.get("page"))
    share = selectors.devrel_text_share()[-12:]
    return render(
        request,
        "updates/newsletter/index.html",
        {"page": page, "form": form if marketer else None, "share": share, "is_marketer": marketer},
    )


@roles.role_required(roles.READERS)
def newsletter_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    newsletter = selectors.newsletter_get_for_user(request.user, pk)
    marketer = selectors.is_marketer(request.user)
    reviewer = selectors.can_review(request.user)
    sections = selectors.newsletter_sections(newsletter)
    comments = selectors.newsletter_comments(newsletter)
    by_section: dict[int | None, list[ReviewComment]] = {}
    for comment in comments:
        by_section.setdefault(comment.section_id, []).append(comment)
    for section in sections:
        section.review = by_section.get(section.pk, [])  # type: ignore[attr-defined]
    context = {
        "newsletter": newsletter,
        "sections": sections,
        "issue_comments": by_section.get(None, []),
        "history": selectors.newsletter_history(newsletter, limit=30),
        "is_marketer": marketer,
        "can_review": reviewer and newsletter.in_review,
        "candidates": selectors.newsletter_candidates(newsletter) if marketer else None,
        "section_form": SectionForm(prefix="new"),
        # What {% csrf_token %} renders, made once for the page's many small forms (candidates, moves, edits).
        "csrf_input": format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request)),
        "add_url": reverse("updates:section-add", args=[newsletter.pk]),
        "comment_form": CommentForm(),
        "decision_form": DecisionForm(),
    }
    return render(request, "updates/newsletter/detail.html", context)


def _marketer_issue(request: AuthenticatedHttpRequest, pk: int) -> Newsletter:
    newsletter = selectors.newsletter_get_for_user(request.user, pk)
    if not selectors.is_marketer(request.user):
        raise PermissionDenied("Only the community marketer writes the newsletter.")
    return newsletter


def _done(request: AuthenticatedHttpRequest, newsletter: Newsletter, anchor: str = "") -> HttpResponse:
    return redirect(newsletter.get_absolute_url() + anchor)


@require_POST
@roles.role_required(WRITERS)
def section_add(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    newsletter = _marketer_issue(request, pk)
    source_key = request.POST.get("source_key", "")
    try:
        if source_key:
            candidate = selectors.candidate_get(newsletter, source_key)
            link = DroppedLink.objects.filter(pk=candidate.link_id).first() if candidate.link_id else None
            section = services.section_add(
                newsletter=newsletter,
                heading=candidate.heading,
                body=candidate.body,
                kind=candidate.kind,
                url=candidate.url,
                link=link,
                source_key=candidate.source_key,
                by=request.user,
            )
        else:
            form = SectionForm(request.POST, prefix="new")
            if not form.is_valid():
                raise TownsquareError("a section needs a heading", record=newsletter)
            section = services.section_add(newsletter=newsletter, by=request.user, **form.cleaned_data)
    except TownsquareError as exc:
        messages.error(request, str(exc))
        return _done(request, newsletter)
    messages.success(request, f"Added “{section.heading}”: now make the text yours.")
    return _done(request, newsletter, f"#section-{section.pk}")


@require_POST
@roles.role_required(WRITERS)
def section_edit(request: AuthenticatedHttpRequest, pk: int, section_pk: int) -> HttpResponse:
    newsletter = _marketer_issue(request, pk)
    section = selectors.section_get(newsletter, section_pk)
    form = SectionForm(request.POST)
    try:
        if not form.is_valid():
            raise TownsquareError("a section needs a heading", record=section)
        services.section_edit(section=section, by=request.user, **form.cleaned_data)
    except TownsquareError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Saved.")
    return _done(request, newsletter, f"#section-{section.pk}")


@require_POST
@roles.role_required(WRITERS)
def section_move(request: AuthenticatedHttpRequest, pk: int, section_pk: int) -> HttpResponse:
    newsletter = _marketer_issue(request, pk)
    section = selectors.section_get(newsletter, section_pk)
    offset = -1 if request.POST.get("direction") == "up" else 1
    services.section_move(section=section, offset=offset, by=request.user)
    return _done(request, newsletter, f"#section-{section.pk}")


@require_POST
@roles.role_required(WRITERS)
def section_remove(request: AuthenticatedHttpRequest, pk: int, section_pk: int) -> HttpResponse:
    newsletter = _marketer_issue(request, pk)
    section = selectors.section_get(newsletter, section_pk)
    services.section_remove(section=section, by=request.user)
    messages.success(request, f"Removed “{section.heading}”.")
    return _done(request, newsletter)


@require_POST
@roles.role_required(WRITERS)
def review_request(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    newsletter = _marketer_issue(request, pk)
    try:
        services.newsletter_request_review(newsletter=newsletter, by=request.user)
    except TownsquareError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Sent to DevRel for review.")
    return _done(request, newsletter)


@require_POST
@roles.role_required(roles.DEVREL)
def review_comment(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    newsletter = selectors.newsletter_get_for_user(request.user, pk)
    section_pk = request.POST.get("section", "")
    section = selectors.section_get(newsletter, int(section_pk)) if section_pk.isdigit() else None
    form = CommentForm(request.POST)
    form.is_valid()
    try:
        services.review_comment(
            newsletter=newsletter,
            section=section,
            body=form.cleaned_data.get("body", ""),
            suggested_body=form.cleaned_data.get("suggested_body", ""),
            by=request.user,
        )
    except TownsquareError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Comment added.")
    return _done(request, newsletter, f"#section-{section.pk}" if section else "#review")


@require_POST
@roles.role_required(roles.DEVREL)
def review_decide(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    newsletter = selectors.newsletter_get_for_user(request.user, pk)
    form = DecisionForm(request.POST)
    try:
        if not form.is_valid():
            raise TownsquareError("choose approve or ask for changes", record=newsletter)
        services.review_decide(
            newsletter=newsletter,
            approve=form.cleaned_data["decision"] == "approve",
            body=form.cleaned_data["body"],
            by=request.user,
        )
    except TownsquareError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Review recorded.")
    return _done(request, newsletter, "#review")


@require_POST
@roles.role_required(WRITERS)
def suggestion_resolve(request: AuthenticatedHttpRequest, pk: int, comment_pk: int) -> HttpResponse:
    newsletter = _marketer_issue(request, pk)
    comment = selectors.comment_get(newsletter, comment_pk)
    try:
        if request.POST.get("action") == "accept":
            services.suggestion_accept(comment=comment, by=request.user)
            messages.success(request, "Suggestion taken into the text.")
        else:
            services.suggestion_dismiss(comment=comment, by=request.user)
            messages.success(request, "Suggestion dismissed.")
    except TownsquareError as exc:
        messages.error(request, str(exc))
    return _done(request, newsletter, f"#section-{comment.section_id}" if comment.section_id else "#review")


@roles.role_required(roles.READERS)
def newsletter_export(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    newsletter = selectors.newsletter_get_for_user(request.user, pk)
    sections = selectors.newsletter_sections(newsletter)
    context = {
        "newsletter": newsletter,
        "markdown": newsletter_markdown(newsletter, sections),
        "html": newsletter_html(newsletter, sections),
    }
    return render(request, "updates/newsletter/export_page.html", context)


@roles.role_required(roles.READERS)
def newsletter_download(request: AuthenticatedHttpRequest, pk: int, fmt: str) -> HttpResponse:
    if fmt not in ("md", "html"):
        raise Http404("exports are .md or .html")
    newsletter = selectors.newsletter_get_for_user(request.user, pk)
    sections = selectors.newsletter_sections(newsletter)
    if fmt == "md":
        body, content_type = newsletter_markdown(newsletter, sections), "text/markdown; charset=utf-8"
    else:
        body, content_type = newsletter_html(newsletter, sections), "text/html; charset=utf-8"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="newsletter-{newsletter.pk}.{fmt}"'
    # The HTML export is for the mailing tool; opened here it must never run anything.
    response["Content-Security-Policy"] = "default-src 'none'; img-src https:; style-src 'unsafe-inline'"
    return response
