"""What the feedback loop knows about each theme in one week: the input of a report draft.

One query loads the theme assignments of the week and the week before (for the
trend); counts reuse the feedback loop's own rules (``stats_for``: distinct people,
staff and bots excluded but kept).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Q

from townsquare.core.privacy import public_name
from townsquare.core.weeks import week_bounds
from townsquare.feedback.models import Theme, ThemeMessage
from townsquare.feedback.selectors import PAYING_TIERS, stats_for
from townsquare.people.models import Member, Team
from townsquare.reports.services import MAX_QUOTES, Quote, ThemeFacts

QUOTE_CHARS = 280


def _counted_member(row: ThemeMessage) -> Member | None:
    """The member who wrote the message when they count (not staff, not a bot), else None."""
    identity = row.message.author
    member = identity.member if identity is not None else None
    if identity is None or member is None or member.is_staff or member.is_bot or identity.is_bot:
        return None
    return member


def _counted(row: ThemeMessage) -> bool:
    return _counted_member(row) is not None


def _excerpt(text: str, limit: int = QUOTE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _customers(rows: Iterable[ThemeMessage]) -> list[dict[str, Any]]:
    accounts: dict[int, dict[str, Any]] = {}
    for row in rows:
        member = _counted_member(row)
        if member is None:
            continue
        organization = member.organization
        account = getattr(organization, "account", None) if organization is not None else None
        if account is not None and account.tier in PAYING_TIERS:
            accounts[account.pk] = {
                "name": account.name,
                "tier": account.tier,
                "annual_revenue": account.annual_revenue,
            }
    return sorted(accounts.values(), key=lambda c: (-float(c["annual_revenue"]), c["name"]))


def _quotes(rows: list[ThemeMessage]) -> list[Quote]:
    """Closest to the theme's centre first, one per person, counted people before staff."""
    quotes: list[Quote] = []
    seen_authors: set[int] = set()
    for row in sorted(rows, key=lambda r: (not _counted(r), -r.similarity, -r.message.created_at.timestamp())):
        message = row.message
        author_id = message.author.member_id if message.author is not None else 0
        if author_id in seen_authors or not (message.body or message.title).strip():
            continue
        seen_authors.add(author_id)
        author = message.author
        quotes.append(
            Quote(
                text=_excerpt(message.body or message.title),
                # Reports reach every role and inbox: a name, never an email address (core/privacy.py).
                author=public_name(author.display_name, author.handle) if author is not None else "someone",
                channel=str(message.channel or message.source),
                url=message.url,
                message_id=message.pk,
            )
        )
        if len(quotes) == MAX_QUOTES:
            break
    return quotes


def _threads(rows: list[ThemeMessage]) -> list[dict[str, str]]:
    threads: dict[tuple[int, str], dict[str, str]] = {}
    for row in sorted(rows, key=lambda r: r.message.created_at):
        message = row.message
        key = (message.source_id, message.thread_external_id or message.external_id)
        if key not in threads:
            threads[key] = {
                "title": _excerpt(message.title or message.body, 120),
                "url": message.url,
                "channel": str(message.channel or message.source),
            }
    return list(threads.values())


def theme_facts_for_week(
    *, week_start: dt.date, department: Team | None = None, theme_ids: Iterable[int] | None = None
) -> list[ThemeFacts]:
    """Facts for every live theme with feedback in the week (or addressed in it), routed to ``department``.

    ``department=None`` is the company-wide report: every theme, routed or not.
    """
    start, end = week_bounds(week_start)
    previous = start - dt.timedelta(days=7)
    themes = Theme.objects.exclude(status__in=[Theme.Status.MERGED, Theme.Status.ARCHIVED])
    if department is not None:
        themes = themes.filter(department=department)
    if theme_ids is not None:
        themes = themes.filter(pk__in=list(theme_ids))
    rows = ThemeMessage.objects.filter(
        theme__in=themes, message__created_at__gte=previous, message__created_at__lt=end
    ).select_related("message__channel", "message__source", "message__author__member__organization__account")
    this_week: dict[int, list[ThemeMessage]] = defaultdict(list)
    last_week: dict[int, list[ThemeMessage]] = defaultdict(list)
    for row in rows:
        (this_week if row.message.created_at >= start else last_week)[row.theme_id].append(row)
    addressed = set(themes.filter(addressed_at__gte=start, addressed_at__lt=end).values_list("pk", flat=True))
    wanted = set(this_week) | addressed
    facts = []
    for theme in themes.filter(pk__in=wanted):
        current = this_week.get(theme.pk, [])
        stats = stats_for(current, now=end)
        if not stats.people and theme.pk not in addressed:
            continue  # only staff or bots spoke this week: nothing the community reported
        before = stats_for(last_week.get(theme.pk, []), now=end)
        facts.append(
            ThemeFacts(
                theme_id=theme.pk,
                title=theme.title,
                summary=theme.summary,
                key_phrases=list(theme.key_phrases or []),
                message_count=stats.messages,
                people_count=stats.people,
                people_last_week=before.people,
                customers=_customers(current),
                channels=stats.channel_names,
                score=theme.score,
                note=theme.why_now,
                quotes=_quotes(current),
                threads=_threads(current),
                issue_url=theme.issue_url,
                addressed_in=theme.addressed_release if theme.pk in addressed else "",
                is_new=bool(theme.first_seen and theme.first_seen >= start),
            )
        )
    return facts


def departments_with_themes() -> list[Any]:
    """Departments that have live themes routed to them."""
    from townsquare.people.models import Team

    live = Q(feedback_themes__isnull=False) & ~Q(
        feedback_themes__status__in=[Theme.Status.MERGED, Theme.Status.ARCHIVED]
    )
    return list(Team.objects.filter(live).distinct().order_by("name"))
