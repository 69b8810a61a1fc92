"""Assignment: each new feedback message joins the nearest theme when similar enough, or seeds one."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence

import numpy as np
from django.db import connection, transaction

from townsquare.feedback.models import Classification, Theme, ThemeMessage
from townsquare.feedback.pipeline import titles
from townsquare.feedback.pipeline.classify import says_me_too
from townsquare.feedback.pipeline.embed import DIMENSIONS
from townsquare.feedback.services import threads
from townsquare.feedback.services.embedding import _from_bytes, _to_bytes, _unit, vectors_for
from townsquare.feedback.services.refresh import theme_refresh
from townsquare.feedback.services.results import BatchResult
from townsquare.sources.models import Message
from townsquare.sources.text import prepare

logger = logging.getLogger(__name__)

# Cosine similarity to a theme's centre above which a new message joins it rather than seeding a new theme.
JOIN_SIMILARITY = 0.55


class ThemeCentres:
    """The live themes' centres and sizes, as assignment compares new messages with them.

    Read from the database for one call, or once per sweep and again at each of its flushes: at a
    million messages there are tens of thousands of themes, and reading every centre for every batch
    of 2,000 messages would cost more than the batch. Assignment keeps it current as it goes.
    """

    def __init__(self) -> None:
        rows = list(
            Theme.objects.exclude(status__in=[Theme.Status.MERGED, Theme.Status.ARCHIVED])
            .exclude(centroid=b"")
            .values_list("pk", "centroid", "message_count")
        )
        self.ids = [pk for pk, _, _ in rows]
        self.sizes = [size for _, _, size in rows]
        self._matrix = np.zeros((max(2 * len(rows), 1024), DIMENSIONS), dtype=np.float32)
        for row, (_, centroid, _) in enumerate(rows):
            self._matrix[row] = _from_bytes(centroid)

    @property
    def matrix(self) -> np.ndarray:
        return self._matrix[: len(self.ids)]

    def set(self, row: int, centre: np.ndarray, size: int) -> None:
        self._matrix[row], self.sizes[row] = centre, size

    def append(self, theme_id: int, centre: np.ndarray, size: int) -> None:
        if len(self.ids) == len(self._matrix):  # grow by doubling: appends stay cheap over a long sweep
            self._matrix = np.concatenate([self._matrix, np.zeros_like(self._matrix)])
        self._matrix[len(self.ids)] = centre
        self.ids.append(theme_id)
        self.sizes.append(size)

    def retire(self, row: int) -> None:
        """A theme merged or archived since it was read: nothing joins it any more."""
        self._matrix[row] = 0.0


def _merged_targets(theme_ids: set[int]) -> dict[int, int]:
    """Theme -> the theme it ended up in, for the themes a curator merged since they were read."""
    current = {pk: pk for pk in theme_ids}
    for _ in range(10):  # merge chains are short; the bound guards against a cycle
        step = dict(
            Theme.objects.filter(
                pk__in=set(current.values()), status=Theme.Status.MERGED, merged_into__isnull=False
            ).values_list("pk", "merged_into_id")
        )
        if not step:
            break
        current = {pk: step.get(target, target) for pk, target in current.items()}
    return {pk: target for pk, target in current.items() if target != pk}


def messages_assign(
    *, message_ids: Sequence[int], refresh: bool = True, centres: ThemeCentres | None = None
) -> BatchResult:
    """Put each new feedback message in the nearest theme when similar enough, else seed a new theme.

    Already-assigned messages are left where they are (a curator's placement is never undone).
    Touched themes are refreshed unless ``refresh=False`` (then ``result.touched_themes`` says which
    to refresh; theme centres are kept up to date either way). ``centres``: the sweep's copy of the
    theme centres (read once, kept current); a message meant for a theme a curator merged since it was
    read goes to the theme it was merged into.
    """
    result = BatchResult()
    feedback_ids = set(
        Classification.objects.filter(message_id__in=list(message_ids))
        .exclude(kind=Classification.Kind.NOT_FEEDBACK)
        .values_list("message_id", flat=True)
    )
    feedback_ids -= set(ThemeMessage.objects.filter(message_id__in=feedback_ids).values_list("message_id", flat=True))
    vectors = vectors_for(sorted(feedback_ids))
    if not vectors:
        _join_bare_me_too(message_ids, result)
        if refresh and result.touched_themes:
            theme_refresh(theme_ids=sorted(result.touched_themes))
        return result
    order = list(Message.objects.filter(pk__in=list(vectors)).order_by("created_at", "pk").values_list("pk", flat=True))
    centres = centres if centres is not None else ThemeCentres()
    theme_ids, matrix = centres.ids, centres.matrix
    batch = np.stack([vectors[i] for i in order])
    places = threads.places(order)
    # The thread is the unit: a reply joins its opener's theme (an answer, a follow-up, a "me too"), and a
    # reply whose opener is in no theme may join the nearest theme but never seeds one (it only answers).
    # An untitled line that states no problem of its own (``titles.may_seed``) may join, never seed.
    openers = {pk: p.opener_id for pk, p in places.items() if p.reply and p.opener_id is not None}
    untitled = _untitled_openers(order, places)
    opener_theme = dict(
        ThemeMessage.objects.filter(message_id__in=set(openers.values())).values_list("message_id", "theme_id")
    )
    theme_row = {pk: k for k, pk in enumerate(theme_ids)}
    row_of = {message_id: row for row, message_id in enumerate(order)}
    # Nearest existing theme for the whole batch in a few matrix products (blocks bound the memory);
    # themes seeded by this batch are compared one by one below, as they appear.
    best_existing = np.full(len(order), -1, dtype=np.int64)
    best_sim = np.full(len(order), -np.inf, dtype=np.float32)
    for start in range(0, len(order), 256):
        if len(matrix):
            sims = batch[start : start + 256] @ matrix.T
            best_existing[start : start + 256] = sims.argmax(1)
            best_sim[start : start + 256] = sims.max(1)
    sums: dict[int, np.ndarray] = {}  # existing theme index -> sum of the vectors joining it
    joined: Counter[int] = Counter()  # existing theme index -> how many join it
    seeds = np.zeros((len(order), DIMENSIONS), dtype=np.float32)  # centres of themes seeded by this batch
    seed_counts: list[int] = []
    seed_members: list[list[int]] = []
    # ("old" | "new", index, similarity) per message, or None for a reply that found no theme to join
    placements: list[tuple[str, int, float] | None] = []
    for row, message_id in enumerate(order):
        vector = batch[row]
        target, similarity = ("old", int(best_existing[row])), float(best_sim[row])
        if seed_counts:
            seed_sims = seeds[: len(seed_counts)] @ vector
            k = int(seed_sims.argmax())
            if seed_sims[k] > similarity:
                target, similarity = ("new", k), float(seed_sims[k])
        opener = openers.get(message_id)
        opener_place = placements[row_of[opener]] if opener in row_of and row_of[opener] < row else None
        if opener_place is not None:
            where, k, _ = opener_place
            target = (where, k)
            similarity = max(float((seeds[k] if where == "new" else matrix[k]) @ vector), JOIN_SIMILARITY)
        elif opener in opener_theme and opener_theme[opener] in theme_row:
            target = ("old", theme_row[opener_theme[opener]])
            similarity = max(float(matrix[target[1]] @ vector), JOIN_SIMILARITY)
        if target[1] >= 0 and similarity >= JOIN_SIMILARITY:
            if target[0] == "old":
                sums[target[1]] = sums.get(target[1], 0) + vector
                joined[target[1]] += 1
            else:
                k = target[1]
                seed_counts[k] += 1
                seed_members[k].append(row)
                seeds[k] = _unit(seeds[k] * (seed_counts[k] - 1) + vector)
            placements.append((target[0], target[1], similarity))
        elif opener is not None or (message_id in untitled and not titles.may_seed(untitled[message_id])):
            placements.append(None)
            result.skipped += 1
        else:
            seeds[len(seed_counts)] = vector
            seed_counts.append(1)
            seed_members.append([row])
            placements.append(("new", len(seed_counts) - 1, 1.0))
    with transaction.atomic():
        merged = _merged_targets({theme_ids[k] for k in sums})
        created = Theme.objects.bulk_create(
            [
                Theme(title=f"New theme {order[members[0]]}", centroid=_to_bytes(seeds[k]), message_count=len(members))
                for k, members in enumerate(seed_members)
            ]
        )
        result.new_themes = len(created)
        new_rows = []
        for message_id, placement in zip(order, placements):
            if placement is None:
                continue
            where, k, similarity = placement
            pk = theme_ids[k] if where == "old" else created[k].pk
            pk = merged.get(pk, pk)
            new_rows.append(ThemeMessage(theme_id=pk, message_id=message_id, similarity=similarity))
            result.touched_themes.add(pk)
        ThemeMessage.objects.bulk_create(new_rows, ignore_conflicts=True)
        # Centres stay running means (and counts stay current) between refreshes, which a sweep spaces out.
        grown: list[tuple[bytes | None, int, int]] = []  # (new centre or None to keep it, joined, theme id)
        for k, total in sums.items():
            if theme_ids[k] in merged:
                grown.append((None, joined[k], merged[theme_ids[k]]))
                centres.retire(k)
                continue
            size = max(centres.sizes[k], 1)
            centre = _unit(matrix[k] * size + total)
            grown.append((_to_bytes(centre), joined[k], theme_ids[k]))
            centres.set(k, centre, size + joined[k])
        _grow_themes(grown)
        for k, theme in enumerate(created):
            centres.append(theme.pk, seeds[k], len(seed_members[k]))
    result.done = len(new_rows)
    _join_bare_me_too(message_ids, result)
    if refresh:
        theme_refresh(theme_ids=sorted(result.touched_themes))
    logger.info("feedback assigned %s messages (%s new themes)", result.done, result.new_themes)
    return result


def _untitled_openers(message_ids: Sequence[int], places: dict[int, threads.Place]) -> dict[int, str]:
    """The bodies of the untitled messages among these that open their thread (praise aside), for ``may_seed``:
    one that states no problem of its own may join a theme but never seeds one.

    In chat without threads (IRC, old Slack) every line "opens" its thread, so a helper's answer
    ("nick: try sudo apt install ...", "Short answer: there is no flag for this") and small talk ("Saw a
    bird on my balcony") are told by their words (``titles.may_seed``). Praise states no problem and seeds.
    """
    untitled = [pk for pk in message_ids if not places.get(pk, threads.Place(False, False, None)).reply]
    rows = (
        Message.objects.filter(pk__in=untitled, title="")
        .exclude(feedback_classification__kind=Classification.Kind.PRAISE)
        .values_list("pk", "body")
    )
    return dict(rows)


def _join_bare_me_too(message_ids: Sequence[int], result: BatchResult) -> None:
    """Replies too short for the pre-filter ("+1", "same here") that say "me too" to an opener in a theme:
    each joins the opener's theme with the opener's label, one more person affected.

    They have no embedding (their words say nothing of the problem), so they move no theme's centre.
    Only messages the pre-filter dropped are read (no classifier, no curator): a curator's label stands.
    """
    dropped = list(
        Classification.objects.filter(
            message_id__in=list(message_ids),
            kind=Classification.Kind.NOT_FEEDBACK,
            classifier__isnull=True,
            curated_at__isnull=True,
            message__feedback_assignment__isnull=True,
        ).values_list("message_id", flat=True)
    )
    if not dropped:
        return
    replies = {pk: p.opener_id for pk, p in threads.places(dropped).items() if p.by_other and p.opener_id is not None}
    texts = Message.objects.filter(pk__in=list(replies)).values_list("pk", "title", "body")
    me_too = {pk: replies[pk] for pk, title, body in texts if says_me_too(prepare(title, body))}
    if not me_too:
        return
    theme_of = dict(
        ThemeMessage.objects.filter(message_id__in=set(me_too.values())).values_list("message_id", "theme_id")
    )
    label_of = {
        message_id: (kind, docs_gap, confidence)
        for message_id, kind, docs_gap, confidence in Classification.objects.filter(
            message_id__in=list(theme_of)
        ).values_list("message_id", "kind", "docs_gap", "confidence")
    }
    joining = {
        pk: opener
        for pk, opener in me_too.items()
        if opener in theme_of and label_of.get(opener, (Classification.Kind.NOT_FEEDBACK,))[0] != "not_feedback"
    }
    if not joining:
        return
    by_label: dict[tuple[str, bool, float], list[int]] = {}
    for pk, opener in joining.items():
        by_label.setdefault(label_of[opener], []).append(pk)
    with transaction.atomic():
        for (kind, docs_gap, confidence), pks in by_label.items():
            Classification.objects.filter(message_id__in=pks).update(
                kind=kind, docs_gap=docs_gap, confidence=confidence
            )
        ThemeMessage.objects.bulk_create(
            [
                ThemeMessage(theme_id=theme_of[o], message_id=pk, similarity=JOIN_SIMILARITY)
                for pk, o in joining.items()
            ],
            ignore_conflicts=True,
        )
        _grow_themes([(None, n, theme) for theme, n in Counter(theme_of[o] for o in joining.values()).items()])
    result.done += len(joining)
    result.touched_themes |= {theme_of[o] for o in joining.values()}


def _grow_themes(grown: Sequence[tuple[bytes | None, int, int]]) -> None:
    """New centres and message counts of the themes a batch joined, in one executemany (a batch touches
    hundreds of themes; an ORM update each was a fifth of assignment's time)."""
    if not grown:
        return
    quote = connection.ops.quote_name
    table, centroid, count = quote(Theme._meta.db_table), quote("centroid"), quote("message_count")
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET {centroid} = COALESCE(%s, {centroid}), {count} = {count} + %s WHERE {quote('id')} = %s",
            grown,
        )
