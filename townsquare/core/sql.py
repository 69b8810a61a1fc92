"""Raw SQL for the few hot paths where the ORM's per-object work is most of the cost."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

from django.db import connection

T = TypeVar("T")
# Ids per IN (...) list: well under SQLite's limit on query variables, whatever the database.
IN_CHUNK = 500


def insert_sql(table: str, columns: Sequence[str]) -> str:
    """``INSERT INTO table (columns) VALUES (%s, ...)``, quoted for the current database, for ``executemany``."""
    quote = connection.ops.quote_name
    return (
        f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )


def chunked(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """``items`` in slices of at most ``size``, for queries with an IN list per slice."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
