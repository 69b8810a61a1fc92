"""One interface to the vector search index: how messages nearest in meaning are found.

The vectors themselves are stored in the database (``Embedding.vector``); an index only finds
candidates fast, and is derived from those rows (``services.embeddings_reconcile`` adds what it lacks
and drops what the database no longer holds). ``get_index()`` returns the configured backend:

* ``FileVectorIndex`` (default): a usearch HNSW index in one file under ``DATA_DIR/feedback/``. Works
  the same with SQLite and PostgreSQL. Vectors are kept as int8 (a quarter of float32's memory) and
  inserted with a light graph effort: building the graph was most of a backfill's cost, and callers
  rank the candidates again with the exact vectors from the database. Writes go to memory and are
  saved by ``flush()``; a lock serialises writers inside a process, ``writer()`` across processes.
* ``PgVectorIndex``: a table with a pgvector HNSW index, only when ``FEEDBACK_VECTOR_BACKEND`` is
  "pgvector", the database is PostgreSQL and the extension is installed (it is not packaged here).

Both take unit float32 vectors of ``DIMENSIONS`` and return approximate cosine similarities.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
from django.conf import settings
from django.db import connection

from townsquare.core.errors import TownsquareError
from townsquare.feedback.pipeline.embed import DIMENSIONS

logger = logging.getLogger(__name__)

# usearch settings of the file index. Measured on 60,000 clustered vectors (benchmarks/vector_index.py):
# int8 with expansion_add 48 inserts about 6x cheaper than float32 at usearch's default 128, and the
# true 10 nearest are found among its first 31 candidates 98 % of the time once ranked exactly.
INDEX_DTYPE = "i8"
INDEX_EXPANSION_ADD = 48


class VectorIndex(Protocol):
    def add(self, keys: Sequence[int], vectors: np.ndarray) -> None: ...
    def remove(self, keys: Sequence[int]) -> None: ...
    def missing(self, keys: Sequence[int]) -> list[int]: ...
    def keys(self) -> list[int]: ...
    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]: ...
    def flush(self) -> None: ...
    def __len__(self) -> int: ...


class _Matches(Protocol):
    keys: np.ndarray
    distances: np.ndarray


class _UsearchIndex(Protocol):
    """The part of ``usearch.index.Index`` this module uses: usearch ships no type information."""

    dtype: object
    keys: object  # usearch's key view; read through np.asarray

    def __len__(self) -> int: ...
    def contains(self, keys: np.ndarray) -> object: ...
    def get(self, keys: np.ndarray) -> Sequence[np.ndarray]: ...
    def add(self, keys: np.ndarray, vectors: np.ndarray) -> object: ...
    def remove(self, keys: np.ndarray) -> object: ...
    def search(self, vector: np.ndarray, count: int) -> _Matches: ...
    def save(self, path: str) -> None: ...
    def load(self, path: str) -> None: ...


def _split(index: _UsearchIndex, keys: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The keys a usearch index holds and those it does not, asked in one call."""
    arr = np.asarray(list(keys), dtype=np.uint64)
    held = np.asarray(index.contains(arr), dtype=np.bool_)
    return arr[held], arr[~held]


class FileVectorIndex:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._index = self._new()
        self._dirty = False
        # An index file of the layout before vectors were stored in the database (float32): kept for
        # reading only, so the vectors it holds move into the database instead of being embedded again.
        self.legacy: _UsearchIndex | None = None
        self._saved_at = self._mtime()
        self._load()

    @staticmethod
    def _new() -> _UsearchIndex:
        from townsquare.feedback.pipeline.native import usearch_index_class

        return usearch_index_class()(
            ndim=DIMENSIONS, metric="cos", dtype=INDEX_DTYPE, expansion_add=INDEX_EXPANSION_ADD
        )

    def _load(self) -> None:
        if not self.path.exists():
            return
        self._index.load(str(self.path))
        self.legacy = None
        if str(self._index.dtype).rsplit(".", 1)[-1].lower() != INDEX_DTYPE:
            # A file of an older layout: start empty; reconciling fills it again from the database. Not
            # marked dirty: a process that only reads (a web worker) still reloads the rebuilt file.
            logger.warning(
                "feedback: the vector index %s has an older layout; it is rebuilt from the database", self.path
            )
            self.legacy, self._index = self._index, self._new()

    def legacy_vectors(self, keys: Sequence[int]) -> dict[int, np.ndarray]:
        """The vectors an older-layout file held for these keys (none when there was no such file)."""
        if self.legacy is None or not len(keys):
            return {}
        with self._lock:
            present, _ = _split(self.legacy, keys)
            found = self.legacy.get(present) if len(present) else []
        return {int(key): np.asarray(vector, dtype=np.float32) for key, vector in zip(present, found)}

    def forget_legacy(self) -> None:
        self.legacy = None

    def _mtime(self) -> float:
        try:
            return self.path.stat().st_mtime
        except FileNotFoundError:
            return 0.0

    def reload_if_changed(self) -> bool:
        """Read the file again if another process saved it since this one read or saved it.

        Only the holder of ``writer()`` writes, so a process about to write first catches up here.
        """
        with self._lock:
            mtime = self._mtime()
            if self._dirty or mtime == self._saved_at or not self.path.exists():
                return False
            self._load()
            self._saved_at = mtime
            return True

    def __len__(self) -> int:
        return len(self._index)

    def add(self, keys: Sequence[int], vectors: np.ndarray) -> None:
        if not len(keys):
            return
        arr = np.asarray(list(keys), dtype=np.uint64)
        with self._lock:
            # A key may exist after a rolled-back transaction reused an id: replace, never duplicate.
            present, _ = _split(self._index, arr)
            if len(present):
                self._index.remove(present)
            self._index.add(arr, np.ascontiguousarray(vectors, dtype=np.float32))
            self._dirty = True

    def missing(self, keys: Sequence[int]) -> list[int]:
        """The keys this index does not hold (in memory: saved or not)."""
        if not len(keys):
            return []
        with self._lock:
            return [int(k) for k in _split(self._index, keys)[1]]

    def keys(self) -> list[int]:
        with self._lock:
            return [int(k) for k in np.asarray(self._index.keys)]

    def remove(self, keys: Sequence[int]) -> None:
        if not len(keys):
            return
        with self._lock:
            present, _ = _split(self._index, keys)
            if len(present):
                self._index.remove(present)
                self._dirty = True

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        with self._lock:
            if len(self._index) == 0:
                return []
            found = self._index.search(np.asarray(vector, dtype=np.float32), min(k, len(self._index)))
        return [(int(key), float(1.0 - dist)) for key, dist in zip(found.keys, found.distances)]

    def flush(self) -> None:
        with self._lock:
            if self._dirty:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                tmp = self.path.with_suffix(".tmp")
                self._index.save(str(tmp))
                tmp.replace(self.path)  # atomic: a crash never leaves half an index
                self._dirty = False
                self._saved_at = self._mtime()


class PgVectorIndex:
    """pgvector backend (HNSW, cosine). Created on first use; needs ``CREATE EXTENSION vector``."""

    table = "feedback_vector"

    def __init__(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'")
            if cursor.fetchone() is None:
                raise TownsquareError("the pgvector extension is not installed in this database", permanent=True)
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} (key bigint PRIMARY KEY, embedding vector({DIMENSIONS}))"
            )
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {self.table}_hnsw ON {self.table} USING hnsw (embedding vector_cosine_ops)"
            )

    @staticmethod
    def _literal(vector: np.ndarray) -> str:
        return "[" + ",".join(f"{x:.6f}" for x in vector) + "]"

    def __len__(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {self.table}")
            return int(cursor.fetchone()[0])

    def add(self, keys: Sequence[int], vectors: np.ndarray) -> None:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {self.table} (key, embedding) VALUES (%s, %s::vector) "
                "ON CONFLICT (key) DO UPDATE SET embedding = EXCLUDED.embedding",
                [(int(k), self._literal(v)) for k, v in zip(keys, vectors)],
            )

    def missing(self, keys: Sequence[int]) -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT key FROM {self.table} WHERE key = ANY(%s)", [[int(k) for k in keys]])
            present = {int(row[0]) for row in cursor.fetchall()}
        return [int(k) for k in keys if int(k) not in present]

    def keys(self) -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT key FROM {self.table}")
            return [int(row[0]) for row in cursor.fetchall()]

    def remove(self, keys: Sequence[int]) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {self.table} WHERE key = ANY(%s)", [[int(k) for k in keys]])

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT key, 1 - (embedding <=> %s::vector) FROM {self.table} ORDER BY embedding <=> %s::vector LIMIT %s",
                [self._literal(vector), self._literal(vector), k],
            )
            return [(int(key), float(sim)) for key, sim in cursor.fetchall()]

    def flush(self) -> None:
        return None


_indexes: dict[str, FileVectorIndex] = {}
_indexes_lock = threading.Lock()


def index_path() -> Path:
    configured = getattr(settings, "FEEDBACK_VECTOR_PATH", None)
    if configured:
        return Path(configured)
    return Path(settings.DATA_DIR) / "feedback" / "vectors.usearch"


def get_index() -> VectorIndex:
    if getattr(settings, "FEEDBACK_VECTOR_BACKEND", "file") == "pgvector" and connection.vendor == "postgresql":
        return PgVectorIndex()
    path = index_path()
    key = str(path)
    with _indexes_lock:
        if key not in _indexes:
            _indexes[key] = FileVectorIndex(path)
        return _indexes[key]


@contextlib.contextmanager
def writer() -> Iterator[bool]:
    """Whether this process may write the file index now (one writer per data directory).

    Yields False, without waiting, while another process holds it: a second worker's sweep then
    leaves the pending messages to the sweep already running instead of racing it for the file.
    """
    path = index_path().with_suffix(".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def forget_indexes() -> None:
    """Drop the in-process cache (tests point the index at a fresh file)."""
    with _indexes_lock:
        _indexes.clear()
