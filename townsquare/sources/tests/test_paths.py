"""A source reads only uploads and TOWNSQUARE_IMPORT_DIR: ``..``, absolute paths and links are refused."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from townsquare.core.errors import TownsquareError
from townsquare.sources import services
from townsquare.sources.models import Message, Source, SyncRun
from townsquare.sources.paths import path_confined
from townsquare.sources.tests.factories import SourceFactory
from townsquare.sources.tests.helpers import FIXTURES

pytestmark = pytest.mark.django_db

IRC_LOG = FIXTURES / "irc_log" / "irssi__townsquare.log"


@pytest.fixture
def import_dir(tmp_path: Path, settings: Any) -> Path:
    folder = tmp_path / "imports"
    (folder / "logs").mkdir(parents=True)
    shutil.copy(IRC_LOG, folder / "logs" / "day1.log")
    settings.SOURCES_IMPORT_DIR = folder
    return folder


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A file the server can read that no source may: stands in for /etc/passwd or the secret key."""
    path = tmp_path / "private" / "secret.log"
    path.parent.mkdir()
    shutil.copy(IRC_LOG, path)
    return path


def hostile_paths(import_dir: Path, secret: Path) -> list[str]:
    (import_dir / "link.log").symlink_to(secret)
    (import_dir / "escape").symlink_to(secret.parent, target_is_directory=True)
    return [
        str(secret),  # absolute, outside
        "/etc/passwd",
        str(import_dir / ".." / "private" / "secret.log"),  # .. out of the import folder
        str(import_dir / "link.log"),  # a link to a file outside
        str(import_dir / "escape" / "secret.log"),  # through a linked folder
        str(import_dir / "escape"),
    ]


def test_the_source_form_refuses_paths_outside_the_import_folder(client_for: Any, import_dir: Path, secret) -> None:
    client = client_for("devrel_lead")
    for path in hostile_paths(import_dir, secret):
        data = {"name": "Logs", "kind": "irc_log", "path": path, "enabled": "on"}
        for extra in ({}, {"test": "1"}):
            page = client.post(reverse("sources:source-add"), {**data, **extra}).content.decode()
            assert "sources may read only uploaded archives and files under TOWNSQUARE_IMPORT_DIR" in page, path
            assert "Connection test passed" not in page, path
    assert not Source.objects.exists()
    inside = {"name": "Logs", "kind": "irc_log", "path": str(import_dir / "logs"), "enabled": "on"}
    client.post(reverse("sources:source-add"), inside)
    assert Source.objects.get(name="Logs").config == {"path": str(import_dir / "logs")}


def test_the_services_refuse_them_too(import_dir: Path, secret: Path) -> None:
    for path in hostile_paths(import_dir, secret):
        with pytest.raises(TownsquareError, match="sources may read only"):
            services.source_create(kind="irc_log", name="Logs", config={"path": path})
    source = services.source_create(kind="irc_log", name="Logs", config={"path": str(import_dir / "logs")})
    with pytest.raises(TownsquareError, match="sources may read only"):
        services.source_update(source=source, name="Logs", config={"path": str(secret)}, schedule="", enabled=True)


def test_without_an_import_folder_only_uploads_are_readable(tmp_path: Path, settings: Any) -> None:
    settings.SOURCES_IMPORT_DIR = None
    with pytest.raises(TownsquareError, match=r"TOWNSQUARE_IMPORT_DIR is not set"):
        path_confined(IRC_LOG, record="Logs")
    upload = Path(settings.DATA_DIR) / "uploads" / "abc" / "day1.log"
    upload.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(IRC_LOG, upload)
    assert path_confined(upload, record="Logs") == upload.resolve()


def test_a_sync_refuses_a_stored_path_that_now_leads_outside(import_dir: Path, secret: Path) -> None:
    """A row saved before the check, or a folder whose link was added after saving: refused at sync time."""
    outside = SourceFactory(name="Old row", kind="irc_log", config={"path": str(secret), "channel": "#t"})
    run = services.source_sync(source=outside)
    assert run.status == SyncRun.Status.FAILED
    assert "Old row" in run.error and "sources may read only" in run.error
    folder = SourceFactory(name="Logs", kind="irc_log", config={"path": str(import_dir / "logs"), "channel": "#t"})
    assert services.source_sync(source=folder).status == SyncRun.Status.SUCCEEDED
    (import_dir / "logs" / "day2.log").symlink_to(secret)
    again = services.source_sync(source=folder)
    assert again.status == SyncRun.Status.FAILED
    assert "the link day2.log points outside" in again.error
    assert not Message.objects.filter(source=outside).exists()


def test_an_operator_import_reads_its_path_but_does_not_keep_one_outside(tmp_path: Path, import_dir: Path) -> None:
    source = SourceFactory(name="CLI", kind="irc_log", config={"channel": "#t"})
    run = services.archive_import(source=source, path=IRC_LOG)  # `townsquare import` from a shell: trusted
    assert run.status == SyncRun.Status.SUCCEEDED and run.new > 0
    source.refresh_from_db()
    assert "path" not in source.config
    inside = import_dir / "logs" / "day1.log"
    services.archive_import(source=source, path=inside)
    source.refresh_from_db()
    assert source.config["path"] == str(inside)
