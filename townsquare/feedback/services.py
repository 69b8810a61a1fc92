"""Feedback writes: embedding, classification, theme assignment and re-grouping, curation.

Machines propose, curators decide: a message a curator placed (move, merge, split) is pinned and
never moved by assignment or re-grouping; re-grouping only writes ``Proposal`` rows.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from townsquare.core.errors import TownsquareError
from townsquare.core.sql import insert_sql
from townsquare.feedback import selectors
from townsquare.feedback.models import (
    Classification,
    ClassifierVersion,
    CurationAction,
    Embedding,
    ProcessingFailure,
    Proposal,
    ScoreWeights,
    Theme,
    ThemeMessage,
)
from townsquare.feedback.pipeline import classify, phrases
from townsquare.feedback.pipeline.cluster import centroids, cluster_vectors, neighbour_rank
from townsquare.feedback.pipeline.embed import DIMENSIONS, MAX_TOKENS, MODEL_NAME, REPLY_TOKENS, embed
from townsquare.feedback.pipeline.prefilter import screen
from townsquare.feedback.pipeline.text import looks_usable, prepare
from townsquare.feedback.vectors import FileVectorIndex, get_index
from townsquare.feedback.vectors import writer as index_writer
from townsquare.people.models import Team
from townsquare.sources.models import Message

logger = logging.getLogger(__name__)

# Cosine similarity to a theme's centre above which a new message joins it rather than seeding a new theme.
JOIN_SIMILARITY = 0.55
# Message kinds that never carry community feedback.
SKIPPED_KINDS = ("pull_request", "article")
BATCH = 256
# A pending sweep saves the vector index and refreshes the themes it touched at most this often (seconds).
FLUSH_EVERY = 120.0
# Batches a sweep hands to the model ahead of the one it writes (their texts wait in memory).
SWEEP_AHEAD = 3
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
# A sweep makes a theme's title and key phrases again once it has grown by a quarter and by three
# messages (or shrunk by a fifth) since they were made, from its PHRASE_SAMPLE messages closest to the centre.
PHRASES_GROWTH = 1.25
PHRASES_SHRINK = 0.8
PHRASES_MIN_GROWTH = 3  # and by three messages at least: a theme of one or two does not need new words for each
PHRASE_SAMPLE = 300

User = AbstractBaseUser


@dataclass
class BatchResult:
    done: int = 0
    skipped: int = 0
    failed: int = 0
    new_themes: int = 0
    proposals: int = 0
    touched_themes: set[int] = field(default_factory=set)


# --------------------------------------------------------------------------------------- vectors


def _to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def _from_bytes(data: bytes | memoryview | None) -> np.ndarray | None:
    if not data:
        return None
    return np.frombuffer(bytes(data), dtype=np.float32)


def _vector_bytes(vector: np.ndarray) -> bytes:
    """A message's vector as stored in ``Embedding.vector``: float16, half of float32's space."""
    return np.asarray(vector, dtype=np.float16).tobytes()


def _vectors_from_stored(blobs: Sequence[bytes | memoryview]) -> np.ndarray:
    """Stored float16 vectors as unit float32 rows, decoded together (one conversion for many)."""
    if not blobs:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    matrix = np.frombuffer(b"".join(bytes(b) for b in blobs), dtype=np.float16).reshape(len(blobs), DIMENSIONS)
    matrix = matrix.astype(np.float32)
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    return matrix


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def message_text(message: Message) -> str:
    return prepare(message.title, message.body)


@dataclass(frozen=True)
class _Candidate:
    """What the pre-filter reads of a message: plain values (a sweep reads millions; model instances cost)."""

    pk: int
    version: int
    kind: str
    title: str
    body: str
    opens_thread: bool
    by_bot: bool


def _candidates(message_ids: Iterable[int]) -> list[_Candidate]:
    rows = (
        Message.objects.filter(pk__in=list(message_ids))
        .exclude(kind__in=SKIPPED_KINDS)
        .order_by("created_at", "pk")
        .values_list(
            "pk",
            "version",
            "kind",
            "title",
            "body",
            "external_id",
            "thread_external_id",
            "parent_external_id",
            "author__is_bot",
            "author__member__is_bot",
        )
    )
    return [
        _Candidate(
            pk,
            version,
            kind,
            title or "",
            body or "",
            _opens_thread(external_id, thread, parent),
            bool(author_bot or member_bot),
        )
        for pk, version, kind, title, body, external_id, thread, parent, author_bot, member_bot in rows
    ]


def _fail(message_id: int, stage: str, reason: str) -> None:
    ProcessingFailure.objects.create(message_id=message_id, stage=stage, reason=reason[:2000])
    logger.warning("feedback %s failed for message %s: %s", stage, message_id, reason[:200])


def _opens_thread(external_id: str, thread_external_id: str, parent_external_id: str) -> bool:
    return not parent_external_id and thread_external_id in ("", external_id)


def starts_thread(message: Message) -> bool:
    return _opens_thread(message.external_id, message.thread_external_id, message.parent_external_id)


def messages_embed(*, message_ids: Sequence[int], flush: bool = True) -> BatchResult:
    """Embed each message version once.

    Skipped: bots, pull requests, unusable text, and what the pre-filter finds is not a feedback
    candidate (short acknowledgements, replies with no sign of a question, problem, wish or opinion).
    ``flush=False`` leaves saving the vector index to the caller (a sweep saves it every
    ``FLUSH_EVERY`` seconds, and ``embeddings_reconcile`` repairs what a crash did not save).
    """
    staged = _embed_select(message_ids)
    return _embed_store(staged, _encode(staged.texts, staged.limits), flush=flush)


@dataclass
class _Staged:
    """A batch chosen for the model: what the pre-filter kept, and the counts so far."""

    message_ids: Sequence[int]
    result: BatchResult
    todo: list[tuple[int, int]]  # (message id, version)
    texts: list[str]
    limits: list[int]  # word pieces to embed: thread openers MAX_TOKENS, replies REPLY_TOKENS


def _embed_select(message_ids: Sequence[int]) -> _Staged:
    """The messages of a batch that need a vector, with their prepared texts (database reads only)."""
    result = BatchResult()
    messages = _candidates(message_ids)
    result.skipped += len(set(message_ids)) - len(messages)
    done = set(
        Embedding.objects.filter(message_id__in=[m.pk for m in messages], model=MODEL_NAME).values_list(
            "message_id", "message_version"
        )
    )
    todo: list[tuple[int, int]] = []
    texts: list[str] = []
    limits: list[int] = []
    for message in messages:
        if (message.pk, message.version) in done or message.by_bot:
            result.skipped += 1
            continue
        text = prepare(message.title, message.body)
        if not looks_usable(text) or not screen(text, kind=message.kind, starts_thread=message.opens_thread).keep:
            result.skipped += 1  # recorded as not feedback by messages_classify, without a vector
            continue
        todo.append((message.pk, message.version))
        texts.append(text)
        limits.append(MAX_TOKENS if message.opens_thread else REPLY_TOKENS)
    return _Staged(message_ids, result, todo, texts, limits)


@dataclass
class _Encoded:
    vectors: np.ndarray  # a zero row where the model failed on that text
    failures: dict[int, str] = field(default_factory=dict)  # row -> why


def _encode(texts: Sequence[str], limits: Sequence[int] | None = None) -> _Encoded:
    """Vectors for a batch; if the batch fails, one by one, so a single message cannot sink it.

    The whole batch goes to the model at once (sorted by length over all of it, it pads least). No
    database access: a sweep runs this in a thread while it writes the previous batch.
    """
    if not texts:
        return _Encoded(np.zeros((0, DIMENSIONS), dtype=np.float32))
    try:
        return _Encoded(embed(texts, limits=limits))
    except Exception as exc:  # noqa: BLE001 - any failure of the model: isolate the message that causes it
        logger.warning("feedback embedding batch failed (%s); retrying one by one", type(exc).__name__)
    encoded = _Encoded(np.zeros((len(texts), DIMENSIONS), dtype=np.float32))
    for i, text in enumerate(texts):
        try:
            encoded.vectors[i] = embed([text], limits=None if limits is None else [limits[i]])[0]
        except Exception as one:  # noqa: BLE001 - recorded with its reason by _embed_store; the batch goes on
            encoded.failures[i] = f"{type(one).__name__}: {one}"
    return encoded


def _embed_store(staged: _Staged, encoded: _Encoded, *, flush: bool) -> BatchResult:
    """Write the vectors of a staged batch: Embedding rows, the index, and a ProcessingFailure per failed message."""
    result, todo, vectors = staged.result, staged.todo, encoded.vectors
    index = get_index()
    for row, reason in encoded.failures.items():
        _fail(todo[row][0], "embed", reason)
    for start in range(0, len(todo), BATCH):
        chunk = todo[start : start + BATCH]
        with transaction.atomic():
            kept = [(message, vector) for message, vector in zip(chunk, vectors[start : start + BATCH]) if vector.any()]
            result.failed += len(chunk) - len(kept)
            rows = Embedding.objects.bulk_create(
                [
                    Embedding(message_id=pk, message_version=version, model=MODEL_NAME, vector=_vector_bytes(vector))
                    for (pk, version), vector in kept
                ]
            )
            if rows:
                index.add([row.pk for row in rows], np.stack([v for _, v in kept]))
            # Older versions of these messages leave the index: one vector per message, its latest.
            stale = Embedding.objects.filter(
                message_id__in=[pk for pk, _ in chunk], model=MODEL_NAME, message_version__lt=F("message__version")
            ).values_list("pk", flat=True)
            stale = list(stale)
            if stale:
                index.remove(stale)
                Embedding.objects.filter(pk__in=stale).delete()
        result.done += len(rows)
    if flush:
        index.flush()
    logger.info("feedback embedded %s messages (%s skipped, %s failed)", result.done, result.skipped, result.failed)
    return result


def embeddings_reconcile() -> int:
    """Make the search index hold exactly the stored vectors; returns how many it had to add.

    Vectors live in the database (``Embedding.vector``); the file index is saved every
    ``FLUSH_EVERY`` seconds rather than every batch, so a process that dies in between leaves the
    file without its last vectors. They are added again from the database (nothing is embedded
    twice), and keys of rows the database no longer has (an erased member's messages, a newer
    version) leave the index. Rows made before vectors were stored have none: those are deleted with
    their machine labels, so the next sweep embeds and classifies the messages again (curator labels
    and theme placements stay).
    """
    index = get_index()
    legacy = list(Embedding.objects.filter(model=MODEL_NAME, vector__isnull=True).values_list("pk", "message_id"))
    moved = 0
    for start in range(0, len(legacy), 5000):
        chunk = legacy[start : start + 5000]
        # An index file of the old layout still holds their vectors: they move into the database.
        found = index.legacy_vectors([pk for pk, _ in chunk]) if isinstance(index, FileVectorIndex) else {}
        lost = [(pk, message_id) for pk, message_id in chunk if pk not in found or not found[pk].any()]
        with transaction.atomic():
            for pk, vector in found.items():
                if vector.any():
                    Embedding.objects.filter(pk=pk).update(vector=_vector_bytes(_unit(vector)))
            Embedding.objects.filter(pk__in=[pk for pk, _ in lost]).delete()
            Classification.objects.filter(message_id__in=[m for _, m in lost], curated_at__isnull=True).delete()
        moved += len(chunk) - len(lost)
    if legacy:
        logger.warning(
            "feedback: %s embeddings had no stored vector: %s moved from the old index file, the rest "
            "will be embedded again",
            len(legacy),
            moved,
        )
    if isinstance(index, FileVectorIndex):
        index.forget_legacy()
    if not isinstance(index, FileVectorIndex):
        return 0
    stored = Embedding.objects.filter(model=MODEL_NAME)
    if stored.count() == len(index) and not legacy:
        return 0
    keys = list(stored.values_list("pk", flat=True).iterator(chunk_size=20_000))
    known = set(keys)
    held = index.keys()
    extra = [key for key in held if key not in known]
    index.remove(extra)
    missing = index.missing(keys)
    for start in range(0, len(missing), 5000):
        chunk = missing[start : start + 5000]
        rows = list(Embedding.objects.filter(pk__in=chunk).values_list("pk", "vector"))
        index.add([pk for pk, _ in rows], _vectors_from_stored([vector for _, vector in rows]))
    if missing or extra:
        index.flush()
        logger.warning(
            "feedback: the vector index lacked %s stored vectors and held %s stale keys; repaired",
            len(missing),
            len(extra),
        )
    return len(missing)


def vectors_for(message_ids: Sequence[int]) -> dict[int, np.ndarray]:
    """The current-version vector of each message that has one (from the database, one query)."""
    rows = list(
        Embedding.objects.filter(
            message_id__in=list(message_ids),
            model=MODEL_NAME,
            message_version=F("message__version"),
            vector__isnull=False,
        ).values_list("message_id", "vector")
    )
    matrix = _vectors_from_stored([vector for _, vector in rows])
    return {message_id: matrix[i] for i, (message_id, _) in enumerate(rows) if matrix[i].any()}


# ------------------------------------------------------------------------------- classification

_classifier_cache: dict[int, classify.Classifier] = {}
_seed_cache: dict[tuple[float, ...], tuple[np.ndarray, list[str]]] = {}


def _seed_vectors() -> tuple[np.ndarray, list[str]]:
    """The shipped examples' embeddings (seed + real_train), computed once per process (per version of the files)."""
    stamp = tuple(path.stat().st_mtime for path in classify.TRAINING_FILES)
    if stamp not in _seed_cache:
        texts, labels = classify.load_training()
        _seed_cache.clear()
        _seed_cache[stamp] = (embed([prepare(None, t) for t in texts]), labels)
    return _seed_cache[stamp]


@transaction.atomic
def classifier_train(*, by: User | None = None) -> ClassifierVersion:
    """Train on the shipped training files plus every curator correction (the latest text of each message)."""
    seed_vectors, labels = _seed_vectors()
    seed_count = len(labels)
    labels = list(labels)
    texts = []
    curated = Classification.objects.filter(curated_at__isnull=False).select_related("message")
    for row in curated:
        texts.append(message_text(row.message))
        labels.append("docs_question" if row.kind == Classification.Kind.QUESTION and row.docs_gap else row.kind)
    vectors = np.vstack([seed_vectors, embed(texts)]) if texts else seed_vectors
    model = classify.train(vectors, labels)
    version = ClassifierVersion.objects.create(
        embedding_model=MODEL_NAME,
        classes=model.classes,
        coef=model.coef,
        intercept=model.intercept,
        seed_examples=seed_count,
        curated_examples=len(texts),
        cv_accuracy=model.cv_accuracy,
    )
    logger.info("feedback classifier %s trained on %s examples", version.pk, len(labels))
    return version


def classifier_current() -> tuple[ClassifierVersion, classify.Classifier]:
    version = ClassifierVersion.objects.order_by("-created_at", "-pk").first()
    if version is None:
        version = classifier_train()
    if version.pk not in _classifier_cache:
        _classifier_cache[version.pk] = classify.Classifier(
            classes=version.classes, coef=version.coef, intercept=version.intercept
        )
    return version, _classifier_cache[version.pk]


def messages_classify(*, message_ids: Sequence[int]) -> BatchResult:
    """Label messages that have an embedding; curator-corrected labels are kept as they are.

    Messages without a vector (bots, pull requests, empty or binary text, what the pre-filter dropped)
    are recorded as not feedback: that marks them processed, so the pending sweep moves past them.
    Rows are written in bulk: at a million messages, two queries a message would be most of the cost.
    """
    result = BatchResult()
    version, model = classifier_current()
    vectors = vectors_for(message_ids)
    existing: dict[int, int] = {}  # message id -> its label's id
    curated: set[int] = set()
    for message_id, pk, curated_at in Classification.objects.filter(message_id__in=list(message_ids)).values_list(
        "message_id", "pk", "curated_at"
    ):
        existing[message_id] = pk
        if curated_at is not None:
            curated.add(message_id)
    versions = dict(Message.objects.filter(pk__in=list(message_ids)).values_list("pk", "version"))
    ids = [i for i in vectors if i not in curated]
    predictions = dict(zip(ids, classify.predict(model, np.stack([vectors[i] for i in ids])))) if ids else {}
    now = timezone.now()
    rows: list[Classification] = []
    for message_id, message_version in versions.items():
        if message_id in curated:
            continue
        prediction = predictions.get(message_id)
        if prediction is not None:
            row = Classification(
                message_id=message_id,
                message_version=message_version,
                kind=prediction.kind,
                docs_gap=prediction.docs_gap,
                confidence=prediction.confidence,
                classifier=version,
            )
            result.done += 1
        else:
            row = Classification(
                message_id=message_id,
                message_version=message_version,
                kind=Classification.Kind.NOT_FEEDBACK,
                docs_gap=False,
                confidence=1.0,
                classifier=None,
            )
            result.skipped += 1
        row.pk = existing.get(message_id)
        row.updated_at = now
        rows.append(row)
    with transaction.atomic():
        for message_id in curated:  # a curator's label stands for later versions of the message too
            Classification.objects.filter(message_id=message_id).update(message_version=versions[message_id])
        new = [r for r in rows if r.pk is None]
        changed = [r for r in rows if r.pk is not None]
        _insert_classifications(new)
        Classification.objects.bulk_update(
            changed, ["message_version", "kind", "docs_gap", "confidence", "classifier", "updated_at"], batch_size=500
        )
    return result


_CLASSIFICATION_COLUMNS = (
    "message_id",
    "message_version",
    "kind",
    "docs_gap",
    "confidence",
    "classifier_id",
    "updated_at",
)


def _insert_classifications(rows: Sequence[Classification]) -> None:
    """New machine labels in one executemany: a sweep writes one per message, and at a million messages
    ``bulk_create``'s per-object work (instances, signals, SQL per 100 rows) was a tenth of the main thread."""
    if not rows:
        return
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.executemany(
            insert_sql(Classification._meta.db_table, _CLASSIFICATION_COLUMNS),
            [
                (
                    r.message_id,
                    r.message_version,
                    r.kind,
                    r.docs_gap,
                    r.confidence,
                    r.classifier_id,
                    adapt(r.updated_at),
                )
                for r in rows
            ],
        )


def _pending() -> Any:
    from django.db.models import Exists, OuterRef

    done = Classification.objects.filter(message=OuterRef("pk"), message_version=OuterRef("version"))
    return Message.objects.filter(~Exists(done))


def messages_pending(*, limit: int = 5000, after: int = 0) -> list[int]:
    """Ids of messages whose current version has not been through the pipeline yet, in import order.

    ``after`` continues a sweep past the ids already handed out, so a sweep over a large store reads
    it once instead of re-skipping the processed prefix on every batch.
    """
    return list(_pending().filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:limit])


def messages_pending_count() -> int:
    return int(_pending().count())


def messages_process_pending(
    *, batch: int = 2000, limit: int = 0, on_batch: Callable[[int, BatchResult], None] | None = None
) -> int:
    """Run pending messages through the pipeline, batch by batch; returns how many were handled.

    ``limit`` stops after about that many messages (0: all pending). A failure inside a batch is
    recorded per message (ProcessingFailure) and the sweep goes on; a crash leaves the rest pending
    for the next sweep, which continues where this one stopped.

    A sweep is the bulk path (a backfill may be a million messages): it saves the vector index and
    refreshes the themes it touched (counts, score, phrases) every ``FLUSH_EVERY`` seconds and at
    its end, not after every batch, because both cost in proportion to what is stored, not to the batch.
    One sweep runs at a time per data directory (``vectors.writer``); a second one returns 0 at once.
    """
    with index_writer() as allowed:
        if not allowed:
            logger.info("feedback: another process is sweeping pending messages; this sweep leaves them to it")
            return 0
        index = get_index()
        if isinstance(index, FileVectorIndex):
            index.reload_if_changed()
        embeddings_reconcile()
        return _sweep(index, batch=batch, limit=limit, on_batch=on_batch)


def _sweep(index: Any, *, batch: int, limit: int, on_batch: Callable[[int, BatchResult], None] | None) -> int:
    """Batch after batch; the model encodes the next batches in a thread while this one writes the last.

    The model spends its time in native code (the thread releases the GIL), the writing in Python and
    the database, so the two overlap on a 2-core machine. Only the main thread touches the database.
    Up to ``SWEEP_AHEAD`` batches are handed to the model ahead of the one being written, so it keeps
    encoding through the main thread's slow moments (a flush refreshes thousands of themes).
    """
    fetched, finished, after = 0, 0, 0
    touched: set[int] = set()
    last_save = started = time.monotonic()
    waited = 0.0
    queued: deque[tuple[_Staged, Future[_Encoded]]] = deque()
    centres = ThemeCentres()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="townsquare-embed") as model:
        try:
            while True:
                while len(queued) < SWEEP_AHEAD and (not limit or fetched < limit):
                    ids = messages_pending(limit=min(batch, limit - fetched) if limit else batch, after=after)
                    if not ids:
                        break
                    staged = _embed_select(ids)
                    fetched, after = fetched + len(ids), ids[-1]
                    queued.append((staged, model.submit(_encode, staged.texts, staged.limits)))
                if not queued:
                    break
                staged, future = queued.popleft()
                wait_started = time.monotonic()
                encoded = future.result()
                waited += time.monotonic() - wait_started
                result = _process_staged(staged, encoded, bulk=True, centres=centres)
                finished += len(staged.message_ids)
                touched |= result.touched_themes
                if time.monotonic() - last_save >= FLUSH_EVERY:
                    index.flush()
                    _refresh_touched(touched)
                    centres = ThemeCentres()  # catch up with curators' merges, splits and moves
                    last_save = time.monotonic()
                if on_batch is not None:
                    on_batch(finished, result)
        finally:
            for _, future in queued:
                future.cancel()
            index.flush()
            _refresh_touched(touched)
    logger.info(
        "feedback sweep: %s messages in %.0f s; the writer waited %.0f s for the model",
        finished,
        time.monotonic() - started,
        waited,
    )
    return finished


def _refresh_touched(theme_ids: set[int]) -> None:
    _refresh_in_chunks(sorted(theme_ids), incremental=True)
    theme_ids.clear()


def _refresh_in_chunks(ids: Sequence[int], *, incremental: bool = False) -> None:
    for start in range(0, len(ids), 200):
        theme_refresh(theme_ids=ids[start : start + 200], incremental=incremental)


@transaction.atomic
def classification_correct(*, message: Message, kind: str, docs_gap: bool = False, by: User) -> Classification:
    if kind not in Classification.Kind.values:
        raise TownsquareError(f"unknown feedback kind {kind!r}", record=f"message {message.pk}")
    row, _ = Classification.objects.update_or_create(
        message=message,
        defaults={
            "message_version": message.version,
            "kind": kind,
            "docs_gap": docs_gap and kind == Classification.Kind.QUESTION,
            "confidence": 1.0,
            "curated_by": by,
            "curated_at": timezone.now(),
        },
    )
    theme = getattr(getattr(message, "feedback_assignment", None), "theme", None)
    CurationAction.objects.create(
        theme=theme, action=CurationAction.Action.RECLASSIFY, by=by, detail={"message": message.pk, "kind": kind}
    )
    if kind == Classification.Kind.NOT_FEEDBACK:
        ThemeMessage.objects.filter(message=message).delete()
        if theme is not None:
            theme_refresh(theme_ids=[theme.pk])
    return row


# ------------------------------------------------------------------------------------ assignment


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
        return result
    order = list(Message.objects.filter(pk__in=list(vectors)).order_by("created_at", "pk").values_list("pk", flat=True))
    centres = centres if centres is not None else ThemeCentres()
    theme_ids, matrix = centres.ids, centres.matrix
    batch = np.stack([vectors[i] for i in order])
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
    placements: list[tuple[str, int, float]] = []  # ("old" | "new", index, similarity) per message
    for row, message_id in enumerate(order):
        vector = batch[row]
        target, similarity = ("old", int(best_existing[row])), float(best_sim[row])
        if seed_counts:
            seed_sims = seeds[: len(seed_counts)] @ vector
            k = int(seed_sims.argmax())
            if seed_sims[k] > similarity:
                target, similarity = ("new", k), float(seed_sims[k])
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
        for message_id, (where, k, similarity) in zip(order, placements):
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
    if refresh:
        theme_refresh(theme_ids=sorted(result.touched_themes))
    logger.info("feedback assigned %s messages (%s new themes)", result.done, result.new_themes)
    return result


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


def messages_process(*, message_ids: Sequence[int], bulk: bool = False) -> BatchResult:
    """The whole path for new messages: embed, classify, assign.

    ``bulk=True`` (the pending sweep) leaves saving the vector index and refreshing the touched
    themes to the caller, who does both once for many batches.
    """
    staged = _embed_select(message_ids)
    return _process_staged(staged, _encode(staged.texts, staged.limits), bulk=bulk)


def _process_staged(
    staged: _Staged, encoded: _Encoded, *, bulk: bool, centres: ThemeCentres | None = None
) -> BatchResult:
    embedded = _embed_store(staged, encoded, flush=not bulk)
    messages_classify(message_ids=staged.message_ids)
    assigned = messages_assign(message_ids=staged.message_ids, refresh=not bulk, centres=centres)
    assigned.skipped = embedded.skipped
    assigned.failed = embedded.failed
    return assigned


# --------------------------------------------------------------------------------------- refresh


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
    all_stats = selectors.theme_stats(ids, now=now)
    themes = Theme.objects.filter(pk__in=ids).values_list("pk", "status", "phrases_count")
    groups: dict[int, list[str]] = {}
    sources: dict[int, list[phrases.TitleSource]] = {}
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
            "score_parts": {**parts, "customers_by_tier": stats.customers_by_tier, "trend": round(stats.trend, 3)},
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
                )
                .order_by("-similarity", "message_id")[:PHRASE_SAMPLE]
            )
            groups[pk] = [message_text(r.message) for r in rows]
            sources[pk] = _title_sources(rows, vectors_for([r.message_id for r in rows]))
            update["phrases_count"] = stats.messages
        Theme.objects.filter(pk=pk).update(**update)
    if groups:
        _refresh_phrases(groups, sources)


def _title_sources(rows: Sequence[ThemeMessage], vectors: dict[int, np.ndarray]) -> list[phrases.TitleSource]:
    return [
        phrases.TitleSource(
            title=r.message.title or "",
            body=r.message.body or "",
            starts_thread=starts_thread(r.message),
            vector=vectors.get(r.message_id),
        )
        for r in rows
    ]


def _refresh_phrases(groups: dict[int, list[str]], sources: dict[int, list[phrases.TitleSource]]) -> None:
    # Contrast with other live themes, as class-based TF-IDF needs other classes to be discriminative.
    others = (
        Theme.objects.exclude(pk__in=list(groups))
        .exclude(status__in=[Theme.Status.MERGED, Theme.Status.ARCHIVED])
        .exclude(key_phrases=[])
        .order_by("-score")[:100]
    )
    background = [" ".join(t.key_phrases) for t in others]
    ids = list(groups)
    found = phrases.key_phrases([groups[i] for i in ids] + [[b] for b in background])
    titled = set(Theme.objects.filter(pk__in=ids, title_curated=True).values_list("pk", flat=True))
    for theme_id, key in zip(ids, found):
        update: dict[str, Any] = {"key_phrases": key}
        if theme_id not in titled:
            update["title"] = phrases.group_title(sources.get(theme_id, []), key)[:200]
        Theme.objects.filter(pk=theme_id).update(**update)


def themes_refresh_all() -> int:
    """Rescore every live theme (recency decays by the day), its words remade where it has grown."""
    ids = list(
        Theme.objects.exclude(status__in=[Theme.Status.MERGED, Theme.Status.ARCHIVED]).values_list("pk", flat=True)
    )
    _refresh_in_chunks(ids, incremental=True)
    return len(ids)


# ------------------------------------------------------------------------------------ re-grouping


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
    vectors = vectors_for([m for m, _, _ in window])
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


# -------------------------------------------------------------------------------------- curation


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
    theme.department = department
    if department is not None and theme.status in (Theme.Status.NEW, Theme.Status.OPEN):
        theme.status = Theme.Status.ROUTED
    theme.save(update_fields=["department", "status", "updated_at"])
    _log(theme, CurationAction.Action.ROUTE, by, department=department.pk if department else None)
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


def more_like_this(*, message: Message, limit: int = 10) -> list[tuple[Message, float]]:
    """Messages across all channels nearest in meaning to ``message``.

    Read-only: a message without a stored vector (not processed yet, or dropped by the pre-filter) is
    embedded for this search but not stored, so a web process never writes the index, whose one writer
    is the sweep (``vectors.writer``). The index file is read again when that writer has saved it since.
    """
    vector = vectors_for([message.pk]).get(message.pk)
    if vector is None:
        text = message_text(message)
        vector = embed([text])[0] if looks_usable(text) else None
    if vector is None or not vector.any():
        return []
    index = get_index()
    if isinstance(index, FileVectorIndex):
        index.reload_if_changed()
    # The index finds candidates (its int8 vectors are approximate); the stored vectors rank them exactly.
    hits = index.search(vector, limit * 3 + 1)
    rows = list(
        Embedding.objects.filter(pk__in=[key for key, _ in hits], vector__isnull=False)
        .exclude(message_id=message.pk)
        .filter(message_version=F("message__version"))
        .select_related("message__channel", "message__source", "message__author")
    )
    similarities = _vectors_from_stored([row.vector for row in rows]) @ vector
    found: dict[int, tuple[Message, float]] = {}
    for row, similarity in zip(rows, similarities):
        found[row.message_id] = (row.message, float(similarity))
    return sorted(found.values(), key=lambda pair: -pair[1])[:limit]
