"""Processing: the whole path for new messages (embed, classify, assign), and the pending sweep."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from townsquare.feedback.models import Classification
from townsquare.feedback.services.assignment import ThemeCentres, messages_assign
from townsquare.feedback.services.classification import messages_classify
from townsquare.feedback.services.embedding import (
    _embed_select,
    _embed_store,
    _encode,
    _Encoded,
    _Staged,
    embeddings_reconcile,
    wholes_embed,
)
from townsquare.feedback.services.refresh import _refresh_in_chunks
from townsquare.feedback.services.results import BatchResult
from townsquare.feedback.vectors import FileVectorIndex, get_index
from townsquare.feedback.vectors import writer as index_writer
from townsquare.sources.models import Message

logger = logging.getLogger(__name__)

# A pending sweep saves the vector index and refreshes the themes it touched at most this often (seconds).
FLUSH_EVERY = 120.0
# Batches a sweep hands to the model ahead of the one it writes (their texts wait in memory).
SWEEP_AHEAD = 3


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


def messages_pending_count(*, source_id: int | None = None) -> int:
    pending = _pending()
    return int((pending.filter(source_id=source_id) if source_id is not None else pending).count())


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
    wholes_embed(message_ids=staged.message_ids)  # long feedback read whole, for "more like this"
    assigned = messages_assign(message_ids=staged.message_ids, refresh=not bulk, centres=centres)
    assigned.skipped = embedded.skipped
    assigned.failed = embedded.failed
    return assigned
