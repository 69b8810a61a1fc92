"""Writes for the link drop, newsletter issues and DevRel's review.

Who may do what is checked here as well as in the views, so the API, the Slack command and the pages
share one rule: anyone with a company role but executives drops links; the community marketer
(:func:`townsquare.updates.selectors.newsletter.is_marketer`) writes issues; DevRel reviews them.
"""

from __future__ import annotations

import datetime as dt
import difflib
import logging

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from townsquare.core import roles
from townsquare.core.errors import TownsquareError
from townsquare.core.sanitize import strip_control
from townsquare.updates import links
from townsquare.updates.models import DroppedLink, Newsletter, NewsletterSection, ReviewComment, SectionRevision
from townsquare.updates.selectors.newsletter import is_marketer

logger = logging.getLogger(__name__)

LINK_DROPPERS = roles.DEVREL | roles.STAKEHOLDERS
NOTE_MAX = 500
HEADING_MAX = 300
BODY_MAX = 20_000


def _one_line(text: str) -> str:
    return " ".join(strip_control(text).split())


def link_drop(
    *, url: str, note: str, by: User | None, via: str = DroppedLink.Via.WEB, slack_user: str = ""
) -> DroppedLink:
    """Store a dropped link once per normalised URL; every refusal stores nothing."""
    if by is not None and not roles.has_role(by, LINK_DROPPERS):
        raise TownsquareError("your role may read dropped links but not drop them", record=url)
    if by is None and not slack_user:
        raise TownsquareError("a dropped link needs the person who dropped it", record=url)
    cleaned = links.clean_url(url)
    key = links.url_key(url)
    note = _one_line(note)
    if not note:
        raise TownsquareError("add a line of context: why does it belong in the newsletter?", record=cleaned)
    if len(note) > NOTE_MAX:
        raise TownsquareError(f"the note is {len(note)} characters; keep it under {NOTE_MAX}", record=cleaned)
    if len(cleaned) > 2000:
        raise TownsquareError("the link is longer than 2,000 characters", record=cleaned[:80] + "…")
    existing = DroppedLink.objects.filter(url_key=key).select_related("dropped_by").first()
    if existing is not None:
        raise TownsquareError(
            f"was already dropped by {existing.dropped_by_name} on {existing.created_at:%Y-%m-%d}", record=cleaned
        )
    title = links.fetch_title(cleaned) if settings.LINK_FETCH_TITLES else ""
    try:
        with transaction.atomic():
            link = DroppedLink.objects.create(
                url=cleaned, url_key=key, title=title, note=note, dropped_by=by, via=via, slack_user=slack_user
            )
    except IntegrityError as exc:  # two drops of one page at once: the other one won
        raise TownsquareError("was dropped by someone else a moment ago", record=cleaned) from exc
    logger.info("updates: link %s dropped via %s", link.pk, via)
    return link


# ---------------------------------------------------------------- issues and sections


def _require_marketer(user: User, newsletter: Newsletter | None = None) -> None:
    if not is_marketer(user):
        raise TownsquareError(
            "only the community marketer (a marketing team member) writes the newsletter; DevRel reviews it",
            record=newsletter,
        )


def _chars_added(before: str, after: str) -> int:
    """Characters in ``after`` that ``before`` did not have (insertions and replacements)."""
    if not before:
        return len(after)
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    return sum(j2 - j1 for tag, _i1, _i2, j1, j2 in matcher.get_opcodes() if tag in ("replace", "insert"))


def _record(
    *, section: NewsletterSection, author: User, action: str, before: str, by_devrel: bool | None = None
) -> SectionRevision:
    after = f"{section.heading}\n{section.body}"
    return SectionRevision.objects.create(
        newsletter=section.newsletter,
        section=section,
        author=author,
        by_devrel=roles.has_role(author, roles.DEVREL) if by_devrel is None else by_devrel,
        action=action,
        heading=section.heading,
        body=section.body,
        chars_written=_chars_added(before, after) if action != SectionRevision.Action.REMOVED else 0,
    )


def _reopen_if_approved(newsletter: Newsletter) -> None:
    """Approval covers the text DevRel saw: a change after it sends the issue back to draft."""
    if newsletter.status == Newsletter.Status.APPROVED:
        newsletter.status = Newsletter.Status.DRAFT
        newsletter.decided_at = None
        newsletter.decided_by = None
    newsletter.save()


def _clean_text(*, heading: str, body: str, record: object) -> tuple[str, str]:
    heading = _one_line(heading)
    body = strip_control(body).strip()
    if not heading:
        raise TownsquareError("a section needs a heading", record=record)
    if len(heading) > HEADING_MAX:
        raise TownsquareError(f"the heading is longer than {HEADING_MAX} characters", record=record)
    if len(body) > BODY_MAX:
        raise TownsquareError(f"the text is longer than {BODY_MAX:,} characters", record=record)
    return heading, body


def newsletter_create(*, title: str, period_start: dt.date, period_end: dt.date, by: User) -> Newsletter:
    _require_marketer(by)
    title = _one_line(title)
    if not title:
        raise TownsquareError("the issue needs a title")
    if period_start > period_end:
        raise TownsquareError("the period ends before it starts", record=title)
    return Newsletter.objects.create(title=title[:200], period_start=period_start, period_end=period_end, owner=by)


@transaction.atomic
def section_add(
    *,
    newsletter: Newsletter,
    heading: str,
    body: str = "",
    kind: str = NewsletterSection.Kind.TEXT,
    url: str = "",
    link: DroppedLink | None = None,
    source_key: str = "",
    by: User,
) -> NewsletterSection:
    _require_marketer(by, newsletter)
    heading, body = _clean_text(heading=heading, body=body, record=newsletter)
    if url:
        url = links.clean_url(url)
    if source_key and newsletter.sections.filter(source_key=source_key).exists():
        raise TownsquareError(f"“{heading}” is already a section of this issue", record=newsletter)
    last = newsletter.sections.aggregate(last=Max("position"))["last"]
    section = NewsletterSection.objects.create(
        newsletter=newsletter,
        position=(last or 0) + 1,
        kind=kind,
        heading=heading,
        body=body,
        url=url,
        link=link,
        source_key=source_key,
    )
    _record(section=section, author=by, action=SectionRevision.Action.ADDED, before="")
    _reopen_if_approved(newsletter)
    return section


@transaction.atomic
def section_edit(*, section: NewsletterSection, heading: str, body: str, by: User) -> NewsletterSection:
    _require_marketer(by, section.newsletter)
    heading, body = _clean_text(heading=heading, body=body, record=section)
    if (heading, body) == (section.heading, section.body):
        return section
    before = f"{section.heading}\n{section.body}"
    section.heading, section.body = heading, body
    section.save(update_fields=["heading", "body", "updated_at"])
    _record(section=section, author=by, action=SectionRevision.Action.EDITED, before=before)
    _reopen_if_approved(section.newsletter)
    return section


@transaction.atomic
def section_remove(*, section: NewsletterSection, by: User) -> None:
    _require_marketer(by, section.newsletter)
    _record(section=section, author=by, action=SectionRevision.Action.REMOVED, before="")
    newsletter = section.newsletter
    section.delete()
    _reopen_if_approved(newsletter)


@transaction.atomic
def section_move(*, section: NewsletterSection, offset: int, by: User) -> None:
    """Move a section ``offset`` places up (negative) or down, renumbering the issue's sections 1..n."""
    _require_marketer(by, section.newsletter)
    ordered = list(section.newsletter.sections.select_for_update().order_by("position", "id"))
    index = next(i for i, s in enumerate(ordered) if s.pk == section.pk)
    target = max(0, min(len(ordered) - 1, index + offset))
    ordered.insert(target, ordered.pop(index))
    for position, row in enumerate(ordered, start=1):
        if row.position != position:
            row.position = position
            row.save(update_fields=["position"])


# ---------------------------------------------------------------- review


def _require_devrel(user: User, newsletter: Newsletter) -> None:
    if not roles.has_role(user, roles.DEVREL):
        raise TownsquareError("only DevRel reviews the newsletter", record=newsletter)


@transaction.atomic
def newsletter_request_review(*, newsletter: Newsletter, by: User) -> Newsletter:
    _require_marketer(by, newsletter)
    if not newsletter.sections.exists():
        raise TownsquareError("add at least one section before asking for review", record=newsletter)
    if newsletter.status == Newsletter.Status.IN_REVIEW:
        raise TownsquareError("is already waiting for DevRel's review", record=newsletter)
    newsletter.status = Newsletter.Status.IN_REVIEW
    newsletter.review_requested_at = timezone.now()
    newsletter.decided_at = None
    newsletter.decided_by = None
    newsletter.save()
    return newsletter


def review_comment(
    *,
    newsletter: Newsletter,
    body: str,
    by: User,
    section: NewsletterSection | None = None,
    suggested_body: str = "",
) -> ReviewComment:
    """A DevRel comment on the issue or a section; with ``suggested_body`` it is a suggestion to accept."""
    _require_devrel(by, newsletter)
    if section is not None and section.newsletter_id != newsletter.pk:
        raise TownsquareError("that section belongs to another issue", record=newsletter)
    body = strip_control(body).strip()
    suggested_body = strip_control(suggested_body).strip()
    if suggested_body and section is None:
        raise TownsquareError("a suggested text belongs to a section", record=newsletter)
    if not body and not suggested_body:
        raise TownsquareError("write a comment or suggest a text", record=newsletter)
    if len(body) > BODY_MAX or len(suggested_body) > BODY_MAX:
        raise TownsquareError(f"keep comments and suggestions under {BODY_MAX:,} characters", record=newsletter)
    kind = ReviewComment.Kind.SUGGESTION if suggested_body else ReviewComment.Kind.COMMENT
    return ReviewComment.objects.create(
        newsletter=newsletter, section=section, author=by, kind=kind, body=body, suggested_body=suggested_body
    )


@transaction.atomic
def review_decide(*, newsletter: Newsletter, approve: bool, body: str, by: User) -> ReviewComment:
    _require_devrel(by, newsletter)
    newsletter = Newsletter.objects.select_for_update().get(pk=newsletter.pk)
    if newsletter.status != Newsletter.Status.IN_REVIEW:
        raise TownsquareError(
            f"is {newsletter.get_status_display().lower()}, not waiting for review: the marketer asks first",
            record=newsletter,
        )
    body = strip_control(body).strip()
    if not approve and not body:
        raise TownsquareError("say which changes you ask for", record=newsletter)
    newsletter.status = Newsletter.Status.APPROVED if approve else Newsletter.Status.CHANGES_REQUESTED
    newsletter.decided_at = timezone.now()
    newsletter.decided_by = by
    newsletter.save()
    kind = ReviewComment.Kind.APPROVE if approve else ReviewComment.Kind.CHANGES
    return ReviewComment.objects.create(newsletter=newsletter, author=by, kind=kind, body=body)


def _open_suggestion(comment: ReviewComment) -> NewsletterSection:
    if comment.kind != ReviewComment.Kind.SUGGESTION or comment.status != ReviewComment.Status.OPEN:
        raise TownsquareError("is not an open suggestion", record=f"comment {comment.pk}")
    if comment.section is None:
        raise TownsquareError("its section was removed", record=f"comment {comment.pk}")
    return comment.section


@transaction.atomic
def suggestion_accept(*, comment: ReviewComment, by: User) -> NewsletterSection:
    """The marketer takes DevRel's text: the section's body becomes it, written by the suggestion's author."""
    _require_marketer(by, comment.newsletter)
    section = _open_suggestion(comment)
    before = f"{section.heading}\n{section.body}"
    section.body = comment.suggested_body
    section.save(update_fields=["body", "updated_at"])
    author = comment.author or by
    _record(
        section=section,
        author=author,
        action=SectionRevision.Action.SUGGESTION_ACCEPTED,
        before=before,
        by_devrel=comment.author is not None and roles.has_role(comment.author, roles.DEVREL),
    )
    comment.status = ReviewComment.Status.ACCEPTED
    comment.resolved_by, comment.resolved_at = by, timezone.now()
    comment.save()
    _reopen_if_approved(section.newsletter)
    return section


def suggestion_dismiss(*, comment: ReviewComment, by: User) -> ReviewComment:
    _require_marketer(by, comment.newsletter)
    _open_suggestion(comment)
    comment.status = ReviewComment.Status.DISMISSED
    comment.resolved_by, comment.resolved_at = by, timezone.now()
    comment.save()
    return comment
