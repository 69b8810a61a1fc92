"""Refresh: a theme's counts, score, centre, title and key phrases, recomputed from its messages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from townsquare.feedback import selectors
from townsquare.feedback.models import Theme, ThemeFacet, ThemeMessage
from townsquare.feedback.pipeline import phrases, titles
from townsquare.feedback.services.embedding import _to_bytes, _unit, vectors_for
from townsquare.sources.models import Message

# A sweep makes a theme's title and key phrases again once it has grown by a quarter and by three
# messages (or shrunk by a fifth) since they were made, from its PHRASE_SAMPLE messages closest to the centre.
PHRASES_GROWTH = 1.25
PHRASES_SHRINK = 0.8
PHRASES_MIN_GROWTH = 3  # and by three messages at least: a theme of one or two does not need new words for each
PHRASE_SAMPLE = 300


def theme_refresh(
    *, theme_ids: Sequence[int], now: dt.datetime | None = None, phrases_too: bool = True, incremental: bool = False
) -> None:
    """Recompute counts, score, centre, first/last seen, and (unless a curator named it) title and key phrases.

    ``incremental=True`` is the sweep's refresh of the themes it added messages to: counts and score as
    always (one lean query for all of them), but the centre is left as assignment keeps it (a running
    mean), and title and key phrases are made again only for themes that are new or have grown by
    ``PHRASES_GROWTH`` since theirs were made. A big theme costs in proportion to its size, and a
    backfill touches the same big themes again and again.
    """
    now = now or timezone.now()
    weights = selectors.score_weights_get()
    ids = list(theme_ids)
    read = selectors.theme_refresh_read(ids, now=now)
    all_stats = read.stats
    themes = Theme.objects.filter(pk__in=ids).values_list("pk", "status", "phrases_count")
    groups: dict[int, list[str]] = {}
    sources: dict[int, list[titles.TitleSource]] = {}
    for pk, status, phrases_count in themes:
        stats = all_stats[pk]
        parts = selectors.score_parts(stats, weights, now=now)
        update: dict[str, Any] = {
            "message_count": stats.messages,
            "people_count": stats.people,
            "customer_count": stats.customers,
            "channel_count": stats.channels,
            "first_seen": stats.first_seen,
            "last_seen": stats.last_seen,
            "score": parts["score"],
            "score_parts": {
                **parts,
                "customers_by_tier": stats.customers_by_tier,
                "trend": round(stats.trend, 3),
                # the paying accounts' summed revenue: a period that holds all the theme's messages reads it
                "revenue_sum": stats.revenue,
            },
        }
        if not incremental and stats.messages:
            vectors = vectors_for(list(ThemeMessage.objects.filter(theme_id=pk).values_list("message_id", flat=True)))
            if vectors:
                update["centroid"] = _to_bytes(_unit(np.stack(list(vectors.values())).mean(0)))
        if not stats.messages and status not in (Theme.Status.MERGED, Theme.Status.ARCHIVED):
            update["status"] = Theme.Status.ARCHIVED
        grown = (
            not phrases_count
            or stats.messages >= max(PHRASES_GROWTH * phrases_count, phrases_count + PHRASES_MIN_GROWTH)
            or stats.messages <= PHRASES_SHRINK * phrases_count
        )
        if stats.messages and phrases_too and (grown or not incremental):
            rows = list(
                ThemeMessage.objects.filter(theme_id=pk)
                .select_related("message")
                .only(
                    "message_id",
                    "similarity",
                    "message__title",
                    "message__body",
                    "message__external_id",
                    "message__thread_external_id",
                    "message__parent_external_id",
                    "message__source_id",
                )
                .order_by("-similarity", "message_id")[:PHRASE_SAMPLE]
            )
            groups[pk] = [r.message.text() for r in rows]
            sources[pk] = _title_sources(rows, vectors_for([r.message_id for r in rows]))
            update["phrases_count"] = stats.messages
        Theme.objects.filter(pk=pk).update(**update)
    _facets_write(ids, read.facets)
    if groups:
        _refresh_phrases(groups, sources)


def theme_facets_refresh(*, theme_ids: Sequence[int]) -> None:
    """Rewrite the themes' stored facets (what the inbox filters read) from their messages, with their counts."""
    _facets_write(theme_ids, selectors.theme_facets(list(theme_ids)))


def _facets_write(theme_ids: Sequence[int], facets: Sequence[ThemeFacet]) -> None:
    with transaction.atomic():
        ThemeFacet.objects.filter(theme_id__in=list(theme_ids)).delete()
        ThemeFacet.objects.bulk_create(facets, batch_size=2000)


def _title_sources(rows: Sequence[ThemeMessage], vectors: dict[int, np.ndarray]) -> list[titles.TitleSource]:
    """The messages as titles read them, each reply with its thread's title (the thread is the unit)."""
    wanted = {
        (r.message.source_id, r.message.thread_external_id or r.message.parent_external_id)
        for r in rows
        if not r.message.starts_thread and not r.message.title
    }
    thread_titles: dict[tuple[int, str], str] = {}
    for source in {source for source, _ in wanted}:
        ids = [external_id for s, external_id in wanted if s == source]
        thread_titles.update(
            ((source, external_id), title)
            for external_id, title in Message.objects.filter(source_id=source, external_id__in=ids)
            .exclude(title="")
            .values_list("external_id", "title")
        )
    return [
        titles.TitleSource(
            title=r.message.title or "",
            body=r.message.body or "",
            starts_thread=r.message.starts_thread,
            vector=vectors.get(r.message_id),
            thread_title=thread_titles.get(
                (r.message.source_id, r.message.thread_external_id or r.message.parent_external_id), ""
            ),
        )
        for r in rows
    ]


def _refresh_phrases(groups: dict[int, list[str]], sources: dict[int, list[titles.TitleSource]]) -> None:
    # Contrast with other live themes, as class-based TF-IDF needs other classes to be discriminative.
    others = (
        Theme.objects.exclude(pk__in=list(groups))
        .exclude(status__in=[Theme.Status.MERGED, Theme.Status.ARCHIVED])
        .exclude(key_phrases=[])
        .order_by("-score")[:100]
    )
    # each phrase its own text, so that phrases of other themes are never joined into new ones
    background = [list(t.key_phrases) for t in others]
    ids = list(groups)
    found = phrases.key_phrases([groups[i] for i in ids] + background)
    titled = set(Theme.objects.filter(pk__in=ids, title_curated=True).values_list("pk", flat=True))
    for theme_id, key in zip(ids, found):
        update: dict[str, Any] = {"key_phrases": key}
        if theme_id not in titled:
            update["title"] = titles.group_title(sources.get(theme_id, []), key)[:200]
        Theme.objects.filter(pk=theme_id).update(**update)


def _refresh_in_chunks(ids: Sequence[int], *, incremental: bool = False) -> None:
    for start in range(0, len(ids), 200):
        theme_refresh(theme_ids=ids[start : start + 200], incremental=incremental)


def themes_refresh_all() -> int:
    """Rescore every live theme (recency decays by the day), its words remade where it has grown."""
    ids = list(
        Theme.objects.exclude(status__in=[Theme.Status.MERGED, Theme.Status.ARCHIVED]).values_list("pk", flat=True)
    )
    _refresh_in_chunks(ids, incremental=True)
    return len(ids)
