"""The inbox's stored facets give exactly what the messages give, and curation keeps them right.

The reference ("slow path") is computed here in Python from the messages themselves: a theme matches
when one of its messages meets every filter, and its period figures are ``stats_of`` the period's messages.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from typing import Any

import pytest
from django.utils import timezone

from townsquare.feedback import selectors, services
from townsquare.feedback.models import Classification, Theme, ThemeFacet, ThemeMessage
from townsquare.feedback.tests.factories import AccountFactory, ChannelFactory, IdentityFactory, MessageFactory
from townsquare.people.models import Identity

pytestmark = pytest.mark.django_db

KINDS = ["bug", "feature", "question", "praise", None]  # None: never classified


@pytest.fixture
def corpus() -> dict[str, Any]:
    rng = random.Random(16)
    channels = [ChannelFactory(source__name=name, name=f"{name} main") for name in ("GitHub", "Slack", "Forum")]
    enterprise = AccountFactory(tier="enterprise", annual_revenue=400_000)
    free = AccountFactory(tier="free", annual_revenue=0)
    authors: list[Identity] = [
        *(IdentityFactory(member__organization=enterprise.organization) for _ in range(3)),
        *(IdentityFactory(member__organization=free.organization) for _ in range(2)),
        *(IdentityFactory() for _ in range(5)),
        IdentityFactory(member__is_staff=True),
    ]
    themes = []
    for t in range(14):
        theme = Theme.objects.create(title=f"Theme {t}", status=Theme.Status.OPEN)
        for _ in range(rng.randint(1, 7)):
            message = MessageFactory(
                author=rng.choice(authors),
                channel=rng.choice(channels),
                created_at=timezone.now() - dt.timedelta(days=rng.uniform(0, 120)),
            )
            kind = rng.choice(KINDS)
            if kind is not None:
                Classification.objects.create(
                    message=message, message_version=1, kind=kind, docs_gap=rng.random() < 0.3
                )
            ThemeMessage.objects.create(theme=theme, message=message, similarity=0.9)
        themes.append(theme)
    services.theme_refresh(theme_ids=[t.pk for t in themes], phrases_too=False)
    return {"themes": themes, "channels": channels}


def _matches(row: ThemeMessage, filters: selectors.InboxFilters) -> bool:
    message = row.message
    classification = getattr(message, "feedback_classification", None)
    if filters.kind == selectors.DOCS_GAP and not (classification and classification.docs_gap):
        return False
    if filters.kind not in ("", selectors.DOCS_GAP) and (classification is None or classification.kind != filters.kind):
        return False
    if filters.source_id and message.source_id != filters.source_id:
        return False
    if filters.tier:
        member = message.author.member if message.author else None
        account = getattr(member.organization, "account", None) if member and member.organization else None
        if account is None or account.tier != filters.tier:
            return False
    period = filters.period
    return period is None or period[0] <= message.created_at < period[1]


def _reference(filters: selectors.InboxFilters) -> dict[int, tuple[int, int, int, int, float]]:
    """Theme id -> (people, customers, channels, messages, score), from the messages."""
    base = selectors.inbox_themes(selectors.InboxFilters(view=filters.view, status=filters.status))
    found = {}
    for theme in base:
        rows = list(selectors.theme_messages(theme))
        if not any(_matches(r, filters) for r in rows):
            continue
        period = filters.period
        if period is None:
            found[theme.pk] = (
                theme.people_count,
                theme.customer_count,
                theme.channel_count,
                theme.message_count,
                theme.score,
            )
            continue
        inside = [r for r in rows if period[0] <= r.message.created_at < period[1]]
        stats = selectors.stats_for(inside, now=period[1])
        score = selectors.score_parts(stats, selectors.score_weights_get(), now=period[1])["score"]
        found[theme.pk] = (stats.people, stats.customers, stats.channels, stats.messages, score)
    return found


def _fast(filters: selectors.InboxFilters) -> dict[int, tuple[int, int, int, int, float]]:
    stored, ranked = selectors.inbox_rows(filters)
    rows = [selectors.stored_row(t) for t in stored] if stored is not None else ranked or []
    return {r.theme_id: (r.people, r.customers, r.channels, r.messages, r.score) for r in rows}


def _every_filter(channels: list[Any]) -> list[selectors.InboxFilters]:
    today = timezone.localdate()
    periods = [
        (None, None),
        (today - dt.timedelta(days=30), today),  # straddles most themes
        (dt.date(2000, 1, 1), None),  # holds every message: stored counts
        (today - dt.timedelta(days=90), today - dt.timedelta(days=40)),
    ]
    combos = itertools.product(
        ["", "bug", "feature", selectors.DOCS_GAP],
        [None, channels[0].source_id, channels[1].source_id],
        ["", "enterprise", "free"],
        periods,
    )
    return [
        selectors.InboxFilters(view=selectors.View.ALL, kind=k, source_id=s, tier=t, since=a, until=b)
        for k, s, t, (a, b) in combos
    ]


def _assert_same(channels: list[Any]) -> None:
    for filters in _every_filter(channels):
        fast, slow = _fast(filters), _reference(filters)
        assert fast.keys() == slow.keys(), filters
        for pk, figures in slow.items():
            assert fast[pk][:4] == figures[:4], (filters, pk)
            assert fast[pk][4] == pytest.approx(figures[4], abs=1e-3), (filters, pk)


def _assert_facets_current(themes: list[Theme]) -> None:
    ids = [t.pk for t in themes]
    key = ("theme_id", "kind", "docs_gap", "source_id", "tier", "first_at", "last_at", "messages")
    stored = sorted(ThemeFacet.objects.filter(theme_id__in=ids).values_list(*key))
    fresh = sorted(tuple(getattr(f, k) for k in key) for f in selectors.theme_facets(ids))
    assert stored == fresh and stored


def test_filtered_results_from_stored_facets_equal_the_messages_own(corpus: dict[str, Any]) -> None:
    _assert_facets_current(corpus["themes"])
    _assert_same(corpus["channels"])
    # every period branch was taken: themes wholly inside the period, and themes straddling it
    assert any(_fast(f) for f in _every_filter(corpus["channels"]) if f.since == dt.date(2000, 1, 1))


def test_curation_merges_and_moves_keep_the_stored_facets_right(corpus: dict[str, Any], make_user: Any) -> None:
    by = make_user("devrel_member")
    themes = corpus["themes"]
    services.themes_merge(target=themes[0], sources=[themes[1], themes[2]], by=by)
    assert not ThemeFacet.objects.filter(theme__in=[themes[1], themes[2]]).exists()
    moved = ThemeMessage.objects.filter(theme=themes[3]).first()
    assert moved is not None
    services.message_move(message=moved.message, theme=themes[4], by=by)
    rows = list(ThemeMessage.objects.filter(theme=themes[5]).values_list("message_id", flat=True))
    if len(rows) > 1:
        services.theme_split(theme=themes[5], message_ids=rows[:1], title="Split off", by=by)
    message = ThemeMessage.objects.filter(theme=themes[6]).first()
    assert message is not None
    services.message_reclassify(message=message.message, kind="question", docs_gap=True, by=by)
    _assert_facets_current(list(Theme.objects.all()))
    assert ThemeFacet.objects.filter(theme=themes[6], kind="question", docs_gap=True).exists()
    _assert_same(corpus["channels"])
