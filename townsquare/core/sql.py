"""Raw SQL for the few hot paths where the ORM's per-object work is most of the cost."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection


def insert_sql(table: str, columns: Sequence[str]) -> str:
    """``INSERT INTO table (columns) VALUES (%s, ...)``, quoted for the current database, for ``executemany``."""
    quote = connection.ops.quote_name
    return (
        f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
