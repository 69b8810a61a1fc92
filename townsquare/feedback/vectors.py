"""One interface to the vector index: where message embeddings live and are searched.

``get_index()`` returns the configured backend:

* ``FileVectorIndex`` (default): a usearch HNSW index in one file under ``DATA_DIR/feedback/``. Works
  the same with SQLite and PostgreSQL. Writes go to memory and are saved by ``flush()`` (services call
  it at the end of each batch); a lock serialises writers inside a process. The database's
  ``Embedding`` rows say which (message, version) is indexed; their ids are the keys here.
* ``PgVectorIndex``: a table with a pgvector HNSW index, only when ``FEEDBACK_VECTOR_BACKEND`` is
  "pgvector", the database is PostgreSQL and the extension is installed (it is not packaged here).

Both take and return unit float32 vectors of ``DIMENSIONS`` and cosine similarities.
"""

from __future__ import annotations

import contextlib
import fcntl
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
from django.conf import settings
from django.db import connection

from townsquare.core.errors import TownsquareError
from townsquare.feedback.pipeline.embed import DIMENSIONS


class VectorIndex(Protocol):
    def add(self, keys: Sequence[int], vectors: np.ndarray) -> None: ...
    def get(self, keys: Sequence[int]) -> np.ndarray: ...
    def remove(self, keys: Sequence[int]) -> None: ...
    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]: ...
    def flush(self) -> None: ...
    def __len__(self) -> int: ...


class FileVectorIndex:
    def __init__(self, path: Path) -> None:
        from townsquare.feedback.pipeline.native import usearch_index_class

        Index = usearch_index_class()

        self.path = path
        self._lock = threading.RLock()
        self._index = Index(ndim=DIMENSIONS, metric="cos", dtype="f32")
        self._saved_at = self._mtime()
        if path.exists():
            self._index.load(str(path))
        self._dirty = False

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
            self._index.load(str(self.path))
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
            present = [int(k) for k in arr if self._index.contains(int(k))]
            for key in present:
                self._index.remove(key)
            self._index.add(arr, np.ascontiguousarray(vectors, dtype=np.float32))
            self._dirty = True

    def get(self, keys: Sequence[int]) -> np.ndarray:
        out = np.zeros((len(keys), DIMENSIONS), dtype=np.float32)
        with self._lock:
            for row, key in enumerate(keys):
                if self._index.contains(int(key)):
                    out[row] = self._index.get(int(key))
        return out

    def missing(self, keys: Sequence[int]) -> list[int]:
        """The keys this index does not hold (in memory: saved or not)."""
        with self._lock:
            return [int(key) for key in keys if not self._index.contains(int(key))]

    def remove(self, keys: Sequence[int]) -> None:
        with self._lock:
            for key in keys:
                if self._index.contains(int(key)):
                    self._index.remove(int(key))
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

    def get(self, keys: Sequence[int]) -> np.ndarray:
        out = np.zeros((len(keys), DIMENSIONS), dtype=np.float32)
        position = {int(k): i for i, k in enumerate(keys)}
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT key, embedding::text FROM {self.table} WHERE key = ANY(%s)", [list(position)])
            for key, text in cursor.fetchall():
                out[position[int(key)]] = np.array(text.strip("[]").split(","), dtype=np.float32)
        return out

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
