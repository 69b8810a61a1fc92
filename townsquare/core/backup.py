"""Backup and restore: every table row by row, the keys' fingerprints, the uploads; never the keys themselves.

A backup is a folder: ``manifest.json`` (format, database vendor, applied migrations, key fingerprints,
row counts), ``tables/<table>.jsonl.gz`` (one JSON array per row, the raw column values) and ``uploads/``.

Rows are copied as the database stores them, table by table, rather than with ``dumpdata`` (which
decrypts encrypted columns through the model field, so secrets would land in the backup in clear) or
``pg_dump`` (which must match the server's major version and does nothing for SQLite). The raw copy keeps
ciphertext as ciphertext, works the same on SQLite and PostgreSQL, streams with bounded memory, and reads
one consistent snapshot (one transaction, REPEATABLE READ on PostgreSQL).

The feedback vector index is not copied: it is derived from the embeddings stored in the database, and a
restore deletes the index file so the next feedback sweep rebuilds it.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import gzip
import json
import logging
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, transaction

from townsquare.core.crypto import key_fingerprints
from townsquare.core.errors import TownsquareError

logger = logging.getLogger(__name__)

FORMAT = 1
MIGRATIONS_TABLE = "django_migrations"
CHUNK = 2000
Say = Callable[[str], None]


def _silent(message: str) -> None:
    return None


# ---------------------------------------------------------------- values


def _encode(value: Any) -> Any:
    """A column value as JSON; types JSON lacks are tagged so a restore gives the driver the same value back."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$b": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, dt.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$d": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$t": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"$td": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, decimal.Decimal):
        return {"$n": str(value)}
    if isinstance(value, uuid.UUID):
        return {"$u": str(value)}
    if isinstance(value, (dict, list)):
        return {"$j": json.dumps(value)}  # a JSON column the driver decoded
    raise TownsquareError(f"cannot back up a value of type {type(value).__name__}", record="backup")


def _decode(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    [(tag, raw)] = value.items()
    if tag == "$b":
        return base64.b64decode(raw)
    if tag == "$dt":
        return dt.datetime.fromisoformat(raw)
    if tag == "$d":
        return dt.date.fromisoformat(raw)
    if tag == "$t":
        return dt.time.fromisoformat(raw)
    if tag == "$td":
        return dt.timedelta(days=raw[0], seconds=raw[1], microseconds=raw[2])
    if tag == "$n":
        return decimal.Decimal(raw)
    if tag == "$u":
        return uuid.UUID(raw)
    if tag == "$j":
        return raw
    raise TownsquareError(f"unknown value tag {tag!r}", record="backup")


# ---------------------------------------------------------------- tables


def _models() -> list[Any]:
    """The installed models (many-to-many ones too) whose tables Django manages and that exist."""
    existing = set(connection.introspection.table_names())
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy and model._meta.db_table in existing
    ]


def backup_tables() -> list[str]:
    """Every table of an installed model that exists, and the migrations table."""
    return sorted({model._meta.db_table for model in _models()} | {MIGRATIONS_TABLE})


def table_rows(table: str) -> Iterator[tuple[list[str], list[tuple[Any, ...]]]]:
    """The table's column names and its rows in key order, a chunk at a time (a server-side cursor on PostgreSQL)."""
    quote = connection.ops.quote_name
    order = _order(table)
    with connection.chunked_cursor() as cursor:
        cursor.execute(f"SELECT * FROM {quote(table)} ORDER BY {order}")
        columns = [column[0] for column in cursor.description]
        while rows := cursor.fetchmany(CHUNK):
            yield columns, rows


def _order(table: str) -> str:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        description = connection.introspection.get_table_description(cursor, table)
        constraints = connection.introspection.get_constraints(cursor, table)
    primary = next((c["columns"] for c in constraints.values() if c.get("primary_key")), None)
    columns = primary or [column.name for column in description]
    return ", ".join(quote(column) for column in columns)


def _migrations() -> list[list[str]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT app, name FROM {connection.ops.quote_name(MIGRATIONS_TABLE)} ORDER BY app, name")
        return [[app, name] for app, name in cursor.fetchall()]


# ---------------------------------------------------------------- backup


def uploads_root() -> Path:
    return Path(settings.DATA_DIR) / "uploads"


def vector_index_file() -> Path:
    configured = getattr(settings, "FEEDBACK_VECTOR_PATH", None)
    return Path(configured) if configured else Path(settings.DATA_DIR) / "feedback" / "vectors.usearch"


def backup_create(*, path: Path, say: Say = _silent) -> dict[str, Any]:
    """Write a backup folder at ``path`` (which must not exist, or be empty). Returns the manifest."""
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise TownsquareError("exists and is not an empty folder: choose a new path", record=str(path))
    (path / "tables").mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # one snapshot for every table
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        migrations = _migrations()
        for table in backup_tables():
            counts[table] = _write_table(path / "tables" / f"{table}.jsonl.gz", table)
            say(f"{table}: {counts[table]:,} rows")
    uploads = uploads_root()
    files = 0
    if uploads.is_dir():
        shutil.copytree(uploads, path / "uploads", symlinks=True)
        files = sum(1 for item in (path / "uploads").rglob("*") if item.is_file())
        say(f"uploads: {files:,} files")
    manifest = {
        "format": FORMAT,
        "created_at": dt.datetime.now(dt.UTC).isoformat(),
        "vendor": connection.vendor,
        "migrations": migrations,
        "key_fingerprints": key_fingerprints(),
        "tables": counts,
        "uploads": files,
        "vector_index": "not copied: rebuilt from the stored embeddings by the next feedback sweep",
    }
    (path / "manifest.json").write_text(json.dumps(manifest, indent=1))
    logger.info("backup written to %s (%s tables)", path, len(counts))
    return manifest


def _write_table(file: Path, table: str) -> int:
    count = 0
    with gzip.open(file, "wt", encoding="utf-8") as out:
        for columns, rows in table_rows(table):
            if count == 0:
                out.write(json.dumps(columns) + "\n")
            for row in rows:
                out.write(json.dumps([_encode(value) for value in row]) + "\n")
                count += 1
        if count == 0:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)} WHERE 1 = 0")
                out.write(json.dumps([column[0] for column in cursor.description]) + "\n")
    return count


# ---------------------------------------------------------------- restore


def backup_read_manifest(path: Path) -> dict[str, Any]:
    file = Path(path) / "manifest.json"
    try:
        manifest = json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        raise TownsquareError(f"not a Townsquare backup (cannot read manifest.json: {exc})", record=str(path)) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise TownsquareError(f"unknown backup format {manifest.get('format')!r}", record=str(path))
    return manifest


def backup_check(*, path: Path) -> dict[str, Any]:
    """The manifest, or TownsquareError when this installation cannot restore it (keys, database, version)."""
    manifest = backup_read_manifest(path)
    missing = [f for f in manifest.get("key_fingerprints") or [] if f not in key_fingerprints()]
    if missing:
        raise TownsquareError(
            "the backup's secrets were encrypted with key(s) "
            + ", ".join(missing)
            + " that TOWNSQUARE_ENCRYPTION_KEYS does not hold (configured: "
            + (", ".join(key_fingerprints()) or "none")
            + "): configure the keys of the installation that made it; refused, nothing changed",
            record=str(path),
        )
    if manifest.get("vendor") != connection.vendor:
        raise TownsquareError(
            f"the backup is of a {manifest.get('vendor')} database, this one is {connection.vendor}: refused",
            record=str(path),
        )
    return manifest


def backup_restore(*, path: Path, say: Say = _silent) -> dict[str, Any]:
    """Replace the database's rows and the uploads with the backup's. All or nothing for the database.

    The schema is migrated first (an empty database becomes a Townsquare one); a backup made by another
    version (other migrations) is refused: restore it with that version, then upgrade.
    """
    path = Path(path)
    manifest = backup_check(path=path)
    call_command("migrate", interactive=False, verbosity=0)
    ours = _migrations()
    theirs = [list(pair) for pair in manifest.get("migrations") or []]
    if ours != theirs:
        extra = sorted({tuple(p) for p in theirs} ^ {tuple(p) for p in ours})[:5]
        raise TownsquareError(
            "the backup was made by another version of Townsquare (its migrations differ, e.g. "
            + ", ".join(f"{app}.{name}" for app, name in extra)
            + "): restore it with that version, then upgrade",
            record=str(path),
        )
    tables = backup_tables()
    unknown = sorted(set(manifest.get("tables") or {}) - set(tables))
    if unknown:
        raise TownsquareError(f"the backup holds tables this database lacks: {', '.join(unknown)}", record=str(path))
    with transaction.atomic():
        _empty(tables)
        for table in tables:
            file = path / "tables" / f"{table}.jsonl.gz"
            if file.exists():
                count = _load_table(file, table)
                say(f"{table}: {count:,} rows")
        _reset_sequences()
    _restore_uploads(path / "uploads")
    vector_index_file().unlink(missing_ok=True)  # rebuilt from the restored embeddings
    logger.info("restored the backup at %s", path)
    return manifest


def _empty(tables: list[str]) -> None:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE " + ", ".join(quote(t) for t in tables) + " RESTART IDENTITY CASCADE")
        else:
            for table in tables:  # foreign keys are deferred: checked when the transaction commits
                cursor.execute(f"DELETE FROM {quote(table)}")


def _load_table(file: Path, table: str) -> int:
    quote = connection.ops.quote_name
    count = 0
    with gzip.open(file, "rt", encoding="utf-8") as lines, connection.cursor() as cursor:
        columns = json.loads(next(lines))
        sql = (
            f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))})"
        )
        chunk: list[list[Any]] = []
        for line in lines:
            chunk.append([_decode(value) for value in json.loads(line)])
            if len(chunk) >= CHUNK:
                cursor.executemany(sql, chunk)
                count += len(chunk)
                chunk = []
        if chunk:
            cursor.executemany(sql, chunk)
            count += len(chunk)
    return count


def _reset_sequences() -> None:
    """PostgreSQL: every serial column continues after the restored ids (SQLite does this by itself)."""
    statements = connection.ops.sequence_reset_sql(no_style(), _models())
    if connection.vendor == "postgresql":  # the migrations table has no model
        statements.append(
            f"SELECT setval(pg_get_serial_sequence('{MIGRATIONS_TABLE}', 'id'), "
            f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {MIGRATIONS_TABLE}"
        )
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _restore_uploads(source: Path) -> None:
    target = uploads_root()
    if target.exists():
        shutil.rmtree(target)
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True)
