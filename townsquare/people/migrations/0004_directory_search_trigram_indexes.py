"""Trigram indexes for the people directory search, on PostgreSQL with the pg_trgm extension.

The search (``people.selectors.member_directory``) matches with ``icontains``, which Django writes on
PostgreSQL as ``UPPER(col::text) LIKE UPPER('%q%')``. A GIN index over that same expression with the
``gin_trgm_ops`` operator class answers it from the index (for searches of three characters or more)
instead of scanning every member and identity. SQLite, and a PostgreSQL where pg_trgm is not available
or may not be created, keep the plain scan: the migration logs why once and changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import DatabaseError, migrations, transaction

log = logging.getLogger(__name__)

# (index, table, column): every column the directory search matches, each serving that search's
# ``<column>__icontains`` condition (members by name or email, organisations by name, identities by
# handle, email or display name).
TRIGRAM_INDEXES = [
    ("member_name_trgm_idx", "people_member", "display_name"),
    ("member_email_trgm_idx", "people_member", "primary_email"),
    ("organization_name_trgm_idx", "people_organization", "name"),
    ("identity_handle_trgm_idx", "people_identity", "handle"),
    ("identity_email_trgm_idx", "people_identity", "email"),
    ("identity_name_trgm_idx", "people_identity", "display_name"),
]


def trigram_schema(connection: Any) -> str | None:
    """The schema pg_trgm lives in, creating the extension if it is available and we may; else None."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
        if cursor.fetchone() is None:
            log.warning("pg_trgm is not available on this PostgreSQL server: "
                        "the people directory search runs without trigram indexes")
            return None
        try:
            with transaction.atomic(using=connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DatabaseError as exc:
            log.warning("pg_trgm could not be created (%s): the people directory search runs without trigram "
                        "indexes (after a superuser runs CREATE EXTENSION pg_trgm, migrate people back to 0003 and forward)",
                        str(exc).strip())
            return None
        cursor.execute("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
                       "WHERE e.extname = 'pg_trgm'")
        return cursor.fetchone()[0]


def trigram_indexes_create(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    schema = trigram_schema(connection)
    if schema is None:
        return
    opclass = f"{schema_editor.quote_name(schema)}.gin_trgm_ops"
    for name, table, column in TRIGRAM_INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {schema_editor.quote_name(name)} ON {schema_editor.quote_name(table)} "
            f"USING gin ((UPPER({schema_editor.quote_name(column)}::text)) {opclass})"
        )


def trigram_indexes_drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


class Migration(migrations.Migration):

    dependencies = [
        ("people", "0003_erasure_record"),
    ]

    operations = [
        migrations.RunPython(trigram_indexes_create, trigram_indexes_drop, elidable=False),
    ]
