"""Curation: what curators do to themes (rename, merge, split, move, annotate, route, decide proposals).

Machines propose, curators decide: a message a curator placed (move, merge, split) is pinned and
never moved by assignment or re-grouping. Every action writes a ``CurationAction``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from townsquare.core import hooks
from townsquare.core.errors import TownsquareError
from townsquare.feedback.models import Classification, CurationAction, Proposal, ScoreWeights, Theme, ThemeMessage
from townsquare.feedback.services.classification import classification_correct
from townsquare.feedback.services.embedding import _from_bytes, vectors_for
from townsquare.feedback.services.refresh import theme_facets_refresh, theme_refresh, themes_refresh_all
from townsquare.people.models import Team
from townsquare.sources.models import Message


def _log(theme: Theme | None, action: str, by: User | None, **detail: Any) -> CurationAction:
    return CurationAction.objects.create(theme=theme, action=action, by=by, detail=detail)


@transaction.atomic
def theme_rename(*, theme: Theme, title: str, by: User) -> Theme:
    title = title.strip()
    if not title:
        raise TownsquareError("a theme needs a title", record=f"theme {theme.pk}")
    _log(theme, CurationAction.Action.RENAME, by, old=theme.title, new=title[:200])
    theme.title = title[:200]
    theme.title_curated = True
    theme.save(update_fields=["title", "title_curated", "updated_at"])
    return theme


@transaction.atomic
def themes_merge(*, target: Theme, sources: Sequence[Theme], by: User) -> Theme:
    """Move every message of ``sources`` into ``target`` (pinned there) and mark the sources merged."""
    sources = [s for s in sources if s.pk != target.pk]
    if not sources:
        raise TownsquareError("pick at least one other theme to merge", record=f"theme {target.pk}")
    if not target.is_live:
        raise TownsquareError("cannot merge into a merged or archived theme", record=f"theme {target.pk}")
    source_ids = [s.pk for s in sources]
    ThemeMessage.objects.filter(theme_id__in=[target.pk, *source_ids]).update(theme=target, pinned_by_curator=True)
    Theme.objects.filter(pk__in=source_ids).update(status=Theme.Status.MERGED, merged_into=target)
    Theme.objects.filter(merged_into_id__in=source_ids).update(merged_into=target)
    Proposal.objects.filter(status=Proposal.Status.OPEN).filter(
        pk__in=[
            p.pk
            for p in Proposal.objects.filter(status=Proposal.Status.OPEN)
            if set(p.theme_ids) & {target.pk, *source_ids}
        ]
    ).update(status=Proposal.Status.STALE)
    _log(target, CurationAction.Action.MERGE, by, merged=source_ids, titles=[s.title for s in sources])
    theme_refresh(theme_ids=[target.pk, *source_ids], phrases_too=False)
    target.refresh_from_db()
    return target


@transaction.atomic
def theme_split(*, theme: Theme, message_ids: Sequence[int], title: str, by: User) -> Theme:
    rows = ThemeMessage.objects.filter(theme=theme, message_id__in=list(message_ids))
    if not rows.exists():
        raise TownsquareError("pick the messages to split off", record=f"theme {theme.pk}")
    if rows.count() == ThemeMessage.objects.filter(theme=theme).count():
        raise TownsquareError("a split must leave some messages behind", record=f"theme {theme.pk}")
    new = Theme.objects.create(
        title=(title.strip() or f"Split from {theme.title}")[:200], title_curated=bool(title.strip())
    )
    moved = list(rows.values_list("message_id", flat=True))
    rows.update(theme=new, pinned_by_curator=True)
    ThemeMessage.objects.filter(theme=theme).update(pinned_by_curator=True)
    _log(theme, CurationAction.Action.SPLIT, by, **{"from": theme.pk, "to": new.pk, "messages": moved})
    theme_refresh(theme_ids=[theme.pk, new.pk])
    new.refresh_from_db()
    return new


@transaction.atomic
def message_move(*, message: Message, theme: Theme, by: User) -> ThemeMessage:
    if not theme.is_live:
        raise TownsquareError("cannot move a message into a merged or archived theme", record=f"theme {theme.pk}")
    vector = vectors_for([message.pk]).get(message.pk)
    centre = _from_bytes(theme.centroid)
    similarity = float(centre @ vector) if vector is not None and centre is not None else 0.0
    old = ThemeMessage.objects.filter(message=message).first()
    old_theme_id = old.theme_id if old else None
    row, _ = ThemeMessage.objects.update_or_create(
        message=message, defaults={"theme": theme, "pinned_by_curator": True, "similarity": similarity}
    )
    _log(theme, CurationAction.Action.MOVE, by, message=message.pk, **{"from": old_theme_id})
    theme_refresh(theme_ids=[t for t in (old_theme_id, theme.pk) if t])
    return row


@transaction.atomic
def message_reclassify(*, message: Message, kind: str, docs_gap: bool = False, by: User) -> Classification:
    """A curator's correction of a message's kind, with its theme's stored facets rewritten at once.

    ``classification_correct`` refreshes the theme only when the message leaves it (not feedback); the
    inbox's kind filter reads the facets, so a correction to another kind must reach them too.
    """
    theme_ids = list(ThemeMessage.objects.filter(message=message).values_list("theme_id", flat=True))
    row = classification_correct(message=message, kind=kind, docs_gap=docs_gap, by=by)
    if theme_ids:
        theme_facets_refresh(theme_ids=theme_ids)
    return row


@transaction.atomic
def theme_annotate(*, theme: Theme, why_now: str, summary: str | None = None, by: User) -> Theme:
    theme.why_now = why_now.strip()
    fields = ["why_now", "updated_at"]
    if summary is not None:
        theme.summary = summary.strip()
        fields.append("summary")
    theme.save(update_fields=fields)
    _log(theme, CurationAction.Action.ANNOTATE, by, why_now=theme.why_now[:500])
    return theme


@transaction.atomic
def theme_route(*, theme: Theme, department: Team | None, by: User) -> Theme:
    previous = theme.department
    theme.department = department
    if department is not None and theme.status in (Theme.Status.NEW, Theme.Status.OPEN):
        theme.status = Theme.Status.ROUTED
    theme.save(update_fields=["department", "status", "updated_at"])
    _log(theme, CurationAction.Action.ROUTE, by, department=department.pk if department else None)
    hooks.theme_routed.call(theme=theme, previous=previous, by=by)
    return theme


@transaction.atomic
def theme_link_issue(*, theme: Theme, url: str, by: User) -> Theme:
    url = url.strip()
    if url:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError as exc:
            raise TownsquareError("the issue link must be an http(s) URL", record=f"theme {theme.pk}") from exc
    theme.issue_url = url
    theme.save(update_fields=["issue_url", "updated_at"])
    _log(theme, CurationAction.Action.LINK_ISSUE, by, url=url)
    return theme


@transaction.atomic
def theme_mark_addressed(*, theme: Theme, release: str, by: User) -> Theme:
    release = release.strip()
    if not release:
        raise TownsquareError("name the release (or docs page) that addressed it", record=f"theme {theme.pk}")
    theme.addressed_release = release[:200]
    theme.addressed_at = timezone.now()
    theme.status = Theme.Status.ADDRESSED
    theme.save(update_fields=["addressed_release", "addressed_at", "status", "updated_at"])
    _log(theme, CurationAction.Action.ADDRESS, by, release=theme.addressed_release)
    return theme


@transaction.atomic
def theme_set_status(*, theme: Theme, status: str, by: User) -> Theme:
    if status not in (Theme.Status.NEW, Theme.Status.OPEN, Theme.Status.ARCHIVED):
        raise TownsquareError(f"status {status!r} is set by its own action", record=f"theme {theme.pk}")
    _log(theme, CurationAction.Action.STATUS, by, old=theme.status, new=status)
    theme.status = status
    theme.save(update_fields=["status", "updated_at"])
    return theme


@transaction.atomic
def proposal_decide(*, proposal: Proposal, accept: bool, by: User) -> Proposal:
    if proposal.status != Proposal.Status.OPEN:
        raise TownsquareError("this proposal was already decided or is stale", record=f"proposal {proposal.pk}")
    if accept:
        themes = {t.pk: t for t in Theme.objects.filter(pk__in=proposal.theme_ids)}
        if proposal.kind == Proposal.Kind.MERGE:
            target, *rest = [themes[i] for i in proposal.theme_ids if i in themes]
            themes_merge(target=target, sources=rest, by=by)
        else:
            theme_split(theme=themes[proposal.theme_ids[0]], message_ids=proposal.message_ids, title="", by=by)
    proposal.status = Proposal.Status.ACCEPTED if accept else Proposal.Status.DISMISSED
    proposal.decided_by = by
    proposal.decided_at = timezone.now()
    proposal.save(update_fields=["status", "decided_by", "decided_at"])
    _log(None, CurationAction.Action.PROPOSAL, by, proposal=proposal.pk, accepted=accept)
    return proposal


WEIGHT_FIELDS = (
    "person",
    "tier_enterprise",
    "tier_business",
    "tier_team",
    "tier_startup",
    "tier_free",
    "revenue",
    "channel",
    "half_life_days",
    "trend",
)


@transaction.atomic
def score_weights_update(*, by: User, **values: float) -> ScoreWeights:
    unknown = set(values) - set(WEIGHT_FIELDS)
    if unknown:
        raise TownsquareError(f"unknown weight(s): {', '.join(sorted(unknown))}")
    if any(float(v) < 0 for v in values.values()):
        raise TownsquareError("weights cannot be negative")
    weights = ScoreWeights.objects.select_for_update().order_by("pk").first() or ScoreWeights()
    for name, value in values.items():
        setattr(weights, name, float(value))
    weights.updated_by = by
    weights.save()
    _log(None, CurationAction.Action.WEIGHTS, by, **{k: float(v) for k, v in values.items()})
    transaction.on_commit(themes_refresh_all)
    return weights
