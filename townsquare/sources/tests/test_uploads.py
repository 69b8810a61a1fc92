"""Uploaded archives are kept only while a resume may need them."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from townsquare.people.models import Identity
from townsquare.sources import services
from townsquare.sources.connectors.matrix_export import MatrixExportConnector
from townsquare.sources.models import Message, Source, SyncRun
from townsquare.sources.tasks import clean_uploads_task
from townsquare.sources.tests.factories import SourceFactory, SyncRunFactory
from townsquare.sources.tests.helpers import DATA, FIXTURES, GoesAwayAfter, registered

pytestmark = pytest.mark.django_db
IMMEDIATE = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "QUEUES": ["default", "notify", "ingest", "feedback"],
    }
}
ROOM = FIXTURES / "matrix_export/room__element.json"


@pytest.fixture
def uploads(settings: Any, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path
    return tmp_path / "uploads"


def upload(uploads: Path, name: str, source: Path = ROOM, *, days_old: float = 0) -> Path:
    folder = uploads / name
    folder.mkdir(parents=True)
    target = folder / source.name
    shutil.copy(source, target)
    if days_old:
        stamp = (timezone.now() - dt.timedelta(days=days_old)).timestamp()
        os.utime(target, (stamp, stamp))
        os.utime(folder, (stamp, stamp))
    return target


def test_an_upload_imported_whole_is_deleted_and_the_source_forgets_it(
    client_for: Any, uploads: Path, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.TASKS = IMMEDIATE
    client = client_for("devrel_member")
    with django_capture_on_commit_callbacks(execute=True), ROOM.open("rb") as handle:
        client.post(reverse("sources:upload"), {"kind": "matrix_export", "name": "Matrix room", "archive": handle})
    run = SyncRun.objects.get(source__name="Matrix room")
    assert (run.status, run.new) == ("partial", 4)
    assert run.upload.startswith(str(uploads.resolve())) and not Path(run.upload).exists()
    assert list(uploads.iterdir()) == []
    source = Source.objects.get(name="Matrix room")
    assert "path" not in source.config
    # The nightly `townsquare sync` has nothing to read for it, rather than failing on a missing file.
    out = io.StringIO()
    call_command("sync", stdout=out)
    assert "No enabled sources with something to read" in out.getvalue()
    assert source.runs.count() == 1


class CrashingMatrixExport(GoesAwayAfter, MatrixExportConnector):
    fail_after = 2


def test_an_interrupted_import_keeps_its_upload_until_the_resumed_run_completes(
    uploads: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = upload(uploads, "a1b2", FIXTURES / "matrix_export/room__element.json")
    source = SourceFactory(kind="matrix_export")
    with registered(monkeypatch, "matrix_export", CrashingMatrixExport):
        crashed = services.source_sync(source=source, path=archive, batch_size=1)
    assert crashed.status == SyncRun.Status.FAILED and archive.exists()
    source.config = {"path": str(archive)}
    source.save()
    assert services.uploads_cleanup() == []  # a fresh upload is kept for the resume
    resumed = services.source_sync(source=source)
    assert resumed.status == SyncRun.Status.PARTIAL and resumed.upload == str(archive.resolve())
    assert not archive.parent.exists()
    assert Message.objects.filter(source=source).count() == 4
    source.refresh_from_db()
    assert "path" not in source.config


def test_an_archive_outside_the_uploads_folder_is_never_deleted(uploads: Path, tmp_path: Path, settings: Any) -> None:
    settings.SOURCES_IMPORT_DIR = tmp_path / "exports"
    mine = tmp_path / "exports" / ROOM.name
    mine.parent.mkdir()
    shutil.copy(ROOM, mine)
    source = SourceFactory(kind="matrix_export", config={"path": str(mine)})
    run = services.source_sync(source=source)
    assert run.status == SyncRun.Status.PARTIAL and run.upload == "" and mine.exists()
    source.refresh_from_db()
    assert source.config["path"] == str(mine)


def test_the_nightly_cleanup_deletes_old_uploads_that_no_unfinished_run_reads(uploads: Path) -> None:
    abandoned = upload(uploads, "abandoned", days_old=8)  # a failed import nobody resumed
    queued = upload(uploads, "queued", days_old=9)
    recent = upload(uploads, "recent", days_old=1)
    stale = upload(uploads, "stale", days_old=30)
    waiting = SourceFactory(kind="matrix_export")
    SyncRunFactory(
        source=waiting,
        status=SyncRun.Status.QUEUED,
        finished_at=None,
        heartbeat_at=timezone.now(),
        upload=str(queued.resolve()),
    )
    dead = SourceFactory(kind="matrix_export", config={"path": str(stale)})
    SyncRunFactory(
        source=dead,
        status=SyncRun.Status.RUNNING,
        finished_at=None,
        heartbeat_at=timezone.now() - dt.timedelta(days=20),
        upload=str(stale.resolve()),
    )
    failed = SourceFactory(kind="matrix_export", config={"path": str(abandoned)})

    assert clean_uploads_task.call() == 2
    assert sorted(p.name for p in uploads.iterdir()) == ["queued", "recent"]
    failed.refresh_from_db()
    dead.refresh_from_db()
    assert "path" not in failed.config and "path" not in dead.config
    assert recent.exists() and queued.exists()


@pytest.mark.parametrize(
    "kind, archive",
    [
        ("irc_log", FIXTURES / "irc_log/irssi__townsquare.log"),  # channel named after the folder
        ("pipermail", DATA / "mailing-lists/pipermail/r-devel/2025-April.txt"),  # list named after the folder
        ("stackexchange_dump", DATA / "stackexchange/datascience.meta.stackexchange.com/Posts.xml"),  # site, realm
        ("supybot", DATA / "irc/limnoria-channellogger/#fluid-work/#fluid-work.2019-03-01.log"),  # a date cursor
        ("matrix_export", ROOM),
    ],
)
def test_uploading_the_same_archive_again_counts_every_record_unchanged(
    client_for: Any, uploads: Path, settings: Any, django_capture_on_commit_callbacks: Any, kind: str, archive: Path
) -> None:
    settings.TASKS = IMMEDIATE
    client = client_for("devrel_member")
    for _ in range(2):  # each upload lands in its own uploads/<random id>/ folder
        with django_capture_on_commit_callbacks(execute=True), archive.open("rb") as handle:
            client.post(reverse("sources:upload"), {"kind": kind, "name": "Community archive", "archive": handle})
        if _ == 0:
            messages, identities = Message.objects.count(), Identity.objects.count()
    first, second = SyncRun.objects.order_by("pk")
    assert first.new > 0
    assert (second.new, second.updated, second.unchanged) == (0, 0, first.new)
    assert (Message.objects.count(), Identity.objects.count()) == (messages, identities)
    page = client.get(reverse("sources:run", args=[second.pk])).content.decode()
    assert f"<dt>Unchanged</dt><dd>{first.new}</dd>" in page
