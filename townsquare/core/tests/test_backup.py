"""Backup and restore round-trip every table exactly, keep secrets encrypted, and refuse the wrong keys."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from townsquare.board.tests.factories import KudosFactory, TaskFactory
from townsquare.core.backup import backup_tables
from townsquare.core.crypto import key_fingerprints
from townsquare.people.models import Account
from townsquare.people.tests.factories import AccountFactory, IdentityFactory
from townsquare.sources.models import Message, Source
from townsquare.sources.tests.factories import MessageFactory, SourceFactory, SyncRunFactory

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "xoxb-secret-token-value"


def every_table() -> dict[str, list[tuple[Any, ...]]]:
    """Each table's rows as the database returns them, in a stable order."""
    quote = connection.ops.quote_name
    rows = {}
    with connection.cursor() as cursor:
        for table in backup_tables():
            cursor.execute(f"SELECT * FROM {quote(table)}")
            rows[table] = sorted(cursor.fetchall(), key=repr)
    return rows


@pytest.fixture
def workspace(settings: Any, tmp_path: Path, make_user: Any) -> Path:
    settings.DATA_DIR = tmp_path / "data"
    settings.ENCRYPTION_KEYS = ["key-one-for-the-test", "an-older-key"]
    uploads = tmp_path / "data" / "uploads" / "abc123"
    uploads.mkdir(parents=True)
    (uploads / "export.zip").write_bytes(b"PK\x03\x04 not really a zip \x00\xff")
    make_user("devrel_lead", full_name="Zoë O'Brien")
    source = SourceFactory(kind="slack", secrets=json.dumps({"token": TOKEN}), config={"team": "T1", "n": [1, 2]})
    identity = IdentityFactory(display_name="Ana \u2603", email="ana@example.org")
    MessageFactory(source=source, author=identity, body="héllo, text 🎉", title="t")
    SyncRunFactory(source=source, cursor_after={"page": 3})
    AccountFactory(crm_id="A-1", annual_revenue=Decimal("1250000.55"))
    task = TaskFactory()
    KudosFactory(task=task)
    return tmp_path


def test_a_backup_restores_every_table_exactly_after_changes(workspace: Path) -> None:
    before = every_table()
    assert sum(len(rows) for rows in before.values()) > 20
    call_command("backup", str(workspace / "backup"))
    with gzip.open(workspace / "backup" / "tables" / f"{Source._meta.db_table}.jsonl.gz", "rt") as table:
        stored = table.read()
    assert TOKEN not in stored  # the secret stays encrypted in the backup
    manifest = json.loads((workspace / "backup" / "manifest.json").read_text())
    assert manifest["key_fingerprints"] == key_fingerprints()
    assert not any("key-one" in value for value in manifest["key_fingerprints"])

    Message.objects.all().delete()
    Account.objects.filter(crm_id="A-1").update(name="changed")
    SourceFactory(name="made after the backup")
    (workspace / "data" / "uploads" / "abc123" / "export.zip").unlink()
    (workspace / "data" / "uploads" / "later").mkdir()

    call_command("restore", str(workspace / "backup"))

    after = every_table()
    assert after.keys() == before.keys()
    for table in before:
        assert after[table] == before[table], table
    assert json.loads(Source.objects.get(kind="slack").secrets)["token"] == TOKEN
    uploads = workspace / "data" / "uploads"
    assert sorted(p.name for p in uploads.iterdir()) == ["abc123"]
    assert (uploads / "abc123" / "export.zip").read_bytes() == b"PK\x03\x04 not really a zip \x00\xff"
    SourceFactory(name="made after the restore")  # ids continue after the restored ones


def test_restore_refuses_a_backup_made_with_other_keys_and_changes_nothing(workspace: Path, settings: Any) -> None:
    call_command("backup", str(workspace / "backup"))
    SourceFactory(name="kept")
    before = every_table()
    settings.ENCRYPTION_KEYS = ["a-different-key"]
    with pytest.raises(CommandError, match="TOWNSQUARE_ENCRYPTION_KEYS does not hold") as refused:
        call_command("restore", str(workspace / "backup"))
    assert key_fingerprints()[0] in str(refused.value)
    assert every_table() == before


def test_a_rotated_key_list_that_still_holds_the_old_keys_restores(workspace: Path, settings: Any) -> None:
    call_command("backup", str(workspace / "backup"))
    settings.ENCRYPTION_KEYS = ["a-newer-key", "key-one-for-the-test", "an-older-key"]
    call_command("restore", str(workspace / "backup"))
    assert json.loads(Source.objects.get(kind="slack").secrets)["token"] == TOKEN


def test_backup_refuses_a_folder_that_is_not_empty(workspace: Path) -> None:
    (workspace / "busy").mkdir()
    (workspace / "busy" / "file").write_text("x")
    with pytest.raises(CommandError, match="not an empty folder"):
        call_command("backup", str(workspace / "busy"))
