"""Vectors: each message version embedded once, stored in the database and in the search index.

The database (``Embedding.vector``, float16) is the record; the index is rebuilt from it
(``embeddings_reconcile``) when a process died before saving it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from django.db import transaction
from django.db.models import F, QuerySet

from townsquare.feedback.models import Classification, Embedding, ProcessingFailure
from townsquare.feedback.pipeline.embed import DIMENSIONS, MAX_TOKENS, MODEL_NAME, REPLY_TOKENS, embed, embed_long
from townsquare.feedback.pipeline.prefilter import screen
from townsquare.feedback.pipeline.rank import SHORTLIST_PER_RESULT, similarities, whole_of
from townsquare.feedback.services.results import BatchResult
from townsquare.feedback.vectors import FileVectorIndex, get_index
from townsquare.sources.models import Message
from townsquare.sources.text import looks_usable, prepare

logger = logging.getLogger(__name__)

# Message kinds that never carry community feedback.
SKIPPED_KINDS = ("pull_request", "article")
BATCH = 256


def _to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def _from_bytes(data: bytes | memoryview | None) -> np.ndarray | None:
    if not data:
        return None
    return np.frombuffer(bytes(data), dtype=np.float32)


def _vector_bytes(vector: np.ndarray) -> bytes:
    """A message's vector as stored in ``Embedding.vector``: float16, half of float32's space."""
    return np.asarray(vector, dtype=np.float16).tobytes()


def _vectors_from_stored(blobs: Sequence[bytes | memoryview | None]) -> np.ndarray:
    """Stored float16 vectors as unit float32 rows, decoded together (one conversion for many).

    ``Embedding.vector`` is nullable only for rows made before vectors were stored; callers read rows
    with a vector, and a missing one is a bug that must not shift the rows after it.
    """
    if not blobs:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    if any(b is None for b in blobs):
        raise ValueError("a stored vector is missing: read only rows with a vector")
    joined = b"".join(bytes(b) for b in blobs if b is not None)
    matrix = np.frombuffer(joined, dtype=np.float16).reshape(len(blobs), DIMENSIONS)
    matrix = matrix.astype(np.float32)
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    return matrix


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


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
            Message.opens_thread(external_id=external_id, thread_external_id=thread, parent_external_id=parent),
            bool(author_bot or member_bot),
        )
        for pk, version, kind, title, body, external_id, thread, parent, author_bot, member_bot in rows
    ]


def _fail(message_id: int, stage: str, reason: str) -> None:
    ProcessingFailure.objects.create(message_id=message_id, stage=stage, reason=reason[:2000])
    logger.warning("feedback %s failed for message %s: %s", stage, message_id, reason[:200])


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
            stale = list(
                Embedding.objects.filter(
                    message_id__in=[pk for pk, _ in chunk], model=MODEL_NAME, message_version__lt=F("message__version")
                ).values_list("pk", flat=True)
            )
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
        rows = list(Embedding.objects.filter(pk__in=missing[start : start + 5000]).values_list("pk", "vector"))
        index.add([pk for pk, _ in rows], _vectors_from_stored([vector for _, vector in rows]))
    if missing or extra:
        index.flush()
        logger.warning(
            "feedback: the vector index lacked %s stored vectors and held %s stale keys; repaired",
            len(missing),
            len(extra),
        )
    return len(missing)


def _current(message_ids: Sequence[int]) -> QuerySet[Embedding]:
    """The stored embeddings of these messages' current versions, by this model, that have a vector."""
    return Embedding.objects.filter(
        message_id__in=list(message_ids),
        model=MODEL_NAME,
        message_version=F("message__version"),
        vector__isnull=False,
    )


def vectors_for(message_ids: Sequence[int]) -> dict[int, np.ndarray]:
    """The current-version vector of each message that has one (from the database, one query)."""
    rows = list(_current(message_ids).values_list("message_id", "vector"))
    matrix = _vectors_from_stored([vector for _, vector in rows])
    return {message_id: matrix[i] for i, (message_id, _) in enumerate(rows) if matrix[i].any()}


@dataclass
class WholeResult:
    messages: int = 0  # whole vectors stored
    windows: int = 0  # windows embedded for them (messages that fit their first cut need none)


def wholes_embed(*, message_ids: Sequence[int]) -> WholeResult:
    """Read whole the long texts of these messages that are feedback, once per message version.

    Only messages the classifier (or a curator) calls feedback: those are what "more like this" and
    duplicate proposals compare, and reading a long text costs several times its first vector. A text
    that fits its first cut stores an empty whole vector (its stored vector already read all of it).
    """
    result = WholeResult()
    rows = list(
        _current(message_ids)
        .filter(whole_vector__isnull=True, message__feedback_classification__isnull=False)
        .exclude(message__feedback_classification__kind=Classification.Kind.NOT_FEEDBACK)
        .values_list("pk", "vector", "message__title", "message__body")
    )
    if not rows:
        return result
    texts = [prepare(title, body) for _, _, title, body in rows]
    heads = _vectors_from_stored([vector for _, vector, _, _ in rows])
    windows = embed_long(texts)
    updated = []
    for (pk, _, _, _), head, per_text in zip(rows, heads, windows):
        updated.append(Embedding(pk=pk, whole_vector=_vector_bytes(whole_of(head, per_text)) if len(per_text) else b""))
        result.windows += len(per_text)
    Embedding.objects.bulk_update(updated, ["whole_vector"], batch_size=500)
    result.messages = len(rows)
    return result


def whole_vectors_for(message_ids: Sequence[int]) -> dict[int, np.ndarray]:
    """The whole-text vector of each message that has a vector: its stored whole vector, when its long
    text was read (``wholes_embed``), else its stored vector."""
    rows = list(_current(message_ids).values_list("message_id", "vector", "whole_vector"))
    matrix = _vectors_from_stored([whole if whole else vector for _, vector, whole in rows])
    return {message_id: matrix[i] for i, (message_id, _, _) in enumerate(rows) if matrix[i].any()}


def _query_vectors(message: Message) -> tuple[np.ndarray, np.ndarray] | None:
    """(stored, whole) vectors of a message; embedded for this search when it has none stored."""
    row = (
        Embedding.objects.filter(
            message=message, model=MODEL_NAME, message_version=message.version, vector__isnull=False
        )
        .values_list("vector", "whole_vector")
        .first()
    )
    if row is not None:
        head = _vectors_from_stored([row[0]])[0]
        if row[1] is not None:
            return head, (_vectors_from_stored([row[1]])[0] if row[1] else head)
        text = message.text()
        return head, whole_of(head, embed_long([text])[0])
    text = message.text()
    if not looks_usable(text):
        return None
    head = embed([text])[0]
    return head, whole_of(head, embed_long([text])[0])


def more_like_this(*, message: Message, limit: int = 10) -> list[tuple[Message, float]]:
    """Messages across all channels nearest in meaning to ``message``, each text read whole.

    The index holds first-window vectors: it is searched with the message's stored vector and with
    its whole vector, and the candidates are ranked by whole vectors (``pipeline.rank``). Read-only: a
    message without stored vectors (not processed yet, not feedback, dropped by the pre-filter) is
    embedded for this search but not stored, so a web process never writes the index, whose one writer
    is the sweep (``vectors.writer``). The index file is read again when that writer has saved it since.
    """
    found_vectors = _query_vectors(message)
    if found_vectors is None or not found_vectors[0].any():
        return []
    head, whole = found_vectors
    index = get_index()
    if isinstance(index, FileVectorIndex):
        index.reload_if_changed()
    count = limit * SHORTLIST_PER_RESULT + 1
    keys = {key for vector in (head, whole) for key, _ in index.search(vector, count)}
    rows = list(
        Embedding.objects.filter(pk__in=keys, vector__isnull=False)
        .exclude(message_id=message.pk)
        .filter(message_version=F("message__version"))
        .select_related("message__channel", "message__source", "message__author")
    )
    wholes = _vectors_from_stored([row.whole_vector if row.whole_vector else row.vector for row in rows])
    found: dict[int, tuple[Message, float]] = {}
    for row, similarity in zip(rows, similarities(whole, wholes)):
        found[row.message_id] = (row.message, float(similarity))
    return sorted(found.values(), key=lambda pair: -pair[1])[:limit]
