"""Re-grouping: the recent window clustered again; merges and splits proposed, never made."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np
from django.utils import timezone

from townsquare.feedback.models import Classification, CurationAction, Proposal, Theme, ThemeMessage
from townsquare.feedback.pipeline.cluster import centroids, cluster_vectors, neighbour_rank
from townsquare.feedback.services.assignment import messages_assign
from townsquare.feedback.services.embedding import _unit, whole_vectors_for, wholes_embed
from townsquare.feedback.services.results import BatchResult

logger = logging.getLogger(__name__)

RECLUSTER_DAYS = 28
# Re-grouping proposes a merge when one group holds at least this share of each of two themes' messages.
PROPOSAL_SHARE = 0.5
PROPOSAL_MIN_MESSAGES = 2
# Every proposal costs a curator a decision, so only strong ones are written. On the demo workspace,
# hand-judged merges with centres at least 0.65 alike were right about 3 times in 4, below it about 1 in
# 10: below, two themes of one product or channel share words, not a subject.
MERGE_MIN_SIMILARITY = 0.65
# ... and each theme must be among the other's few nearest themes, so one broad theme does not collect
# a merge proposal from every neighbour.
MERGE_NEAREST = 3
# A split is proposed when the part that groups apart is at most this alike the rest (centre cosine).
SPLIT_MAX_SIMILARITY = 0.5
SPLIT_MIN_MESSAGES = 3
# Only the strongest proposals stay open; the next re-grouping proposes again what still holds.
MAX_OPEN_PROPOSALS = 20


def _curator_separated() -> set[frozenset[int]]:
    """Pairs of themes a curator split apart: re-grouping never proposes to merge them again."""
    pairs = set()
    for detail in CurationAction.objects.filter(action=CurationAction.Action.SPLIT).values_list("detail", flat=True):
        if detail.get("from") and detail.get("to"):
            pairs.add(frozenset((int(detail["from"]), int(detail["to"]))))
    for proposal in Proposal.objects.filter(status=Proposal.Status.DISMISSED, kind=Proposal.Kind.MERGE):
        pairs.add(frozenset(proposal.theme_ids))
    return pairs


def _theme_centres(window: Sequence[tuple[int, int, bool]], matrix: np.ndarray) -> dict[int, np.ndarray]:
    """Unit centre of each theme's messages in the window."""
    themes = np.array([t for _, t, _ in window])
    ids, cents = centroids(matrix, themes)
    return {int(t): cents[i] for i, t in enumerate(ids)}


def _merge_proposals(
    window: Sequence[tuple[int, int, bool]], matrix: np.ndarray, labels: np.ndarray
) -> list[tuple[float, Proposal]]:
    """(strength, proposal) for pairs of themes that are one subject.

    Three things must agree: one re-grouped cluster holds most of both themes' recent messages, the
    themes' centres are at least ``MERGE_MIN_SIMILARITY`` alike, and each theme is among the other's
    ``MERGE_NEAREST`` nearest. Pairs a curator split apart or dismissed are never proposed.
    """
    separated = _curator_separated()
    theme_sizes = Counter(t for _, t, _ in window)
    by_cluster: dict[int, Counter[int]] = defaultdict(Counter)
    for (_, theme_id, _), label in zip(window, labels):
        by_cluster[int(label)][theme_id] += 1
    centres = _theme_centres(window, matrix)
    order = sorted(centres)
    position = {t: i for i, t in enumerate(order)}
    stacked = np.stack([centres[t] for t in order])
    found: list[tuple[float, Proposal]] = []
    seen: set[frozenset[int]] = set()
    for themes in by_cluster.values():
        strong = [t for t, n in themes.items() if n >= PROPOSAL_MIN_MESSAGES and n / theme_sizes[t] >= PROPOSAL_SHARE]
        strong.sort(key=lambda t: (-theme_sizes[t], t))
        for i, first in enumerate(strong):
            for other in strong[i + 1 :]:
                pair = frozenset((first, other))
                if pair in separated or pair in seen:
                    continue
                a, b = position[first], position[other]
                similarity = float(centres[first] @ centres[other])
                if (
                    similarity < MERGE_MIN_SIMILARITY
                    or max(neighbour_rank(stacked, a, b), neighbour_rank(stacked, b, a)) >= MERGE_NEAREST
                ):
                    continue
                seen.add(pair)
                reason = (
                    f"Same subject: their centres are {similarity:.0%} alike, and {themes[first]} of "
                    f"{theme_sizes[first]} and {themes[other]} of {theme_sizes[other]} recent messages group together"
                )
                found.append((similarity, Proposal(kind=Proposal.Kind.MERGE, theme_ids=[first, other], reason=reason)))
    return found


def _split_proposals(
    window: Sequence[tuple[int, int, bool]], matrix: np.ndarray, labels: np.ndarray
) -> list[tuple[float, Proposal]]:
    """(strength, proposal) for themes whose second-largest re-grouped part is a subject of its own.

    The part must hold at least ``SPLIT_MIN_MESSAGES`` unpinned messages and 30% of the theme, and be
    at most ``SPLIT_MAX_SIMILARITY`` alike the rest. Themes a curator merged into are never proposed.
    """
    merged_into = set(
        CurationAction.objects.filter(action=CurationAction.Action.MERGE).values_list("theme_id", flat=True)
    )
    rows_of: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for row, ((_, theme_id, _), label) in enumerate(zip(window, labels)):
        rows_of[theme_id][int(label)].append(row)
    found: list[tuple[float, Proposal]] = []
    for theme_id, parts in rows_of.items():
        if theme_id in merged_into or len(parts) < 2:
            continue
        size = sum(len(rows) for rows in parts.values())
        ranked = sorted(parts.values(), key=len, reverse=True)
        movable = [row for row in ranked[1] if not window[row][2]]
        if len(movable) < SPLIT_MIN_MESSAGES or len(movable) < 0.3 * size:
            continue
        moving = set(movable)
        rest = [row for rows in ranked for row in rows if row not in moving]
        similarity = float(_unit(matrix[movable].mean(0)) @ _unit(matrix[rest].mean(0)))
        if similarity > SPLIT_MAX_SIMILARITY:
            continue
        reason = f"{len(movable)} of {size} recent messages form their own group, only {similarity:.0%} alike the rest"
        proposal = Proposal(
            kind=Proposal.Kind.SPLIT,
            theme_ids=[theme_id],
            message_ids=[window[row][0] for row in movable],
            reason=reason,
        )
        found.append((1.0 - similarity, proposal))
    return found


def themes_recluster(*, days: int = RECLUSTER_DAYS, now: dt.datetime | None = None) -> BatchResult:
    """Re-group the recent window by density and propose merges and splits for curators.

    Nothing is moved: pinned messages (a curator's move, merge or split) are left out of split
    proposals, themes a curator merged into are never proposed for a split, and pairs a curator
    split apart (or a dismissed merge) are never proposed for a merge.
    """
    now = now or timezone.now()
    result = BatchResult()
    window = list(
        ThemeMessage.objects.filter(message__created_at__gte=now - dt.timedelta(days=days))
        .exclude(theme__status__in=[Theme.Status.MERGED, Theme.Status.ARCHIVED])
        .values_list("message_id", "theme_id", "pinned_by_curator")
    )
    # Duplicates are judged on whole texts: a long report's first words are often its template. Feedback
    # from before whole texts were read is read now, once.
    wholes_embed(message_ids=[m for m, _, _ in window])
    vectors = whole_vectors_for([m for m, _, _ in window])
    window = [w for w in window if w[0] in vectors]
    # Unassigned feedback in the window first gets its incremental assignment.
    unassigned = list(
        Classification.objects.filter(message__created_at__gte=now - dt.timedelta(days=days))
        .exclude(kind=Classification.Kind.NOT_FEEDBACK)
        .filter(message__feedback_assignment__isnull=True)
        .values_list("message_id", flat=True)
    )
    if unassigned:
        messages_assign(message_ids=unassigned)
    if len(window) < 3:
        return result
    matrix = np.stack([vectors[m] for m, _, _ in window])
    labels = cluster_vectors(matrix)
    Proposal.objects.filter(status=Proposal.Status.OPEN).update(status=Proposal.Status.STALE)
    scored = _merge_proposals(window, matrix, labels) + _split_proposals(window, matrix, labels)
    # Strongest first; the inbox lists the newest first, so the strongest is written last.
    scored.sort(key=lambda pair: -pair[0])
    proposals = [proposal for _, proposal in reversed(scored[:MAX_OPEN_PROPOSALS])]
    Proposal.objects.bulk_create(proposals)
    result.proposals = len(proposals)
    result.done = len(window)
    logger.info("feedback re-grouped %s messages: %s proposals", len(window), len(proposals))
    return result
