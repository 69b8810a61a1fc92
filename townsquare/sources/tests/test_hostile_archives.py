"""One hostile file never fails a whole import: it becomes an error naming it, the rest is imported, re-runs agree."""

from __future__ import annotations

import gzip
import json
import shutil
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import pytest

from townsquare.sources import services
from townsquare.sources.models import Message, SyncError, SyncRun
from townsquare.sources.tests.factories import SourceFactory
from townsquare.sources.tests.helpers import FIXTURES
from townsquare.sources.tests.test_ingest import msg, slack_zip

pytestmark = pytest.mark.django_db

DEEP = "[" * 200_000  # RecursionError in json.loads on today's code


def reasons(run: SyncRun) -> dict[str, str]:
    return dict(SyncError.objects.filter(run=run).values_list("record", "reason"))


def test_a_slack_export_keeps_every_good_day_around_hostile_ones(tmp_path: Path, settings: Any) -> None:
    settings.IMPORT_MAX_MEMBER_MB = 1
    path = slack_zip(
        tmp_path / "export.zip",
        {
            "general/2024-01-01.json": [msg("1704067200.000100", "before")],
            "general/2024-01-02.json": DEEP,
            "general/2024-01-03.json": "[" + " " * (2 * 1024**2) + "]",  # 2 MB of nothing, under 1 KB zipped
            "general/2024-01-04.json": '[{"type": "message", "ts": "1704',  # cut short
            "general/2024-01-06.json": [msg("1704499200.000100", "after")],
        },
    )
    with zipfile.ZipFile(path, "a") as archive:  # a Windows tool's export: Windows-1252, and UTF-16
        archive.writestr(
            "general/2024-01-05.json",
            json.dumps([msg("1704412800.000100", "café")]).replace("\\u00e9", "\xe9").encode("cp1252"),
        )
        archive.writestr("general/2024-01-07.json", json.dumps([msg("1704585600.000100", "naïve")]).encode("utf-16"))
    run = services.archive_import(source=SourceFactory(kind="slack_export"), path=path)
    assert run.status == SyncRun.Status.PARTIAL
    assert sorted(Message.objects.values_list("body", flat=True)) == ["after", "before", "café", "naïve"]
    why = reasons(run)
    assert why["general/2024-01-02.json"].startswith("JSON nested too deeply")
    assert why["general/2024-01-03.json"].startswith("larger than 1 MB uncompressed")
    assert why["general/2024-01-04.json"].startswith("not valid JSON")
    assert len(why) == 3
    again = services.archive_import(source=run.source, path=path)  # a re-run reads the same way, adds nothing
    assert (again.status, again.new, again.rejected) == (SyncRun.Status.PARTIAL, 0, 3)
    assert Message.objects.count() == 4


def test_a_zip_bomb_member_is_refused_from_its_size_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    slack_zip(path, {"general/2024-01-01.json": [msg("1704067200.000100", "kept")]})
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("general/2024-01-02.json", b"[" + b" " * (100 * 1024**2) + b"]")
    assert path.stat().st_size < 300_000
    source = SourceFactory(kind="slack_export")
    tracemalloc.start()
    try:
        run = services.archive_import(source=source, path=path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 30 * 1024**2  # today: the whole 100 MB member, then its text and its parse
    assert reasons(run) == {"general/2024-01-02.json": reasons(run)["general/2024-01-02.json"]}
    assert "larger than 64 MB uncompressed" in reasons(run)["general/2024-01-02.json"]
    assert list(Message.objects.values_list("body", flat=True)) == ["kept"]


def test_an_archive_larger_than_the_archive_limit_is_refused_unread(tmp_path: Path, settings: Any) -> None:
    settings.IMPORT_MAX_ARCHIVE_MB = 1
    path = slack_zip(tmp_path / "big.zip", {"general/2024-01-01.json": [msg("1704067200.000100", "x" * 2 * 1024**2)]})
    run = services.archive_import(source=SourceFactory(kind="slack_export"), path=path)
    assert run.status == SyncRun.Status.FAILED
    assert "big.zip" in run.error and "more than TOWNSQUARE_IMPORT_MAX_ARCHIVE_MB (1 MB)" in run.error
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("kind", "fixture", "hostile"),
    [
        ("matrix_export", "matrix_export", "zz-deep.json"),
        ("discord_export", "discord_export", "zz-deep.json"),
        ("zulip_export", "zulip_export/export", "messages-000002.json"),
    ],
)
def test_a_deeply_nested_file_in_a_folder_export_is_one_error(
    tmp_path: Path, kind: str, fixture: str, hostile: str
) -> None:
    folder = tmp_path / "export"
    shutil.copytree(FIXTURES / fixture, folder)
    (folder / hostile).write_text(DEEP)
    with gzip.open(folder / "aa-huge.json.gz", "wb") as handle:  # 70 MB of nothing in a small gzip
        handle.write(b" " * (70 * 1024**2))
    source = SourceFactory(kind=kind)
    run = services.archive_import(source=source, path=folder)
    assert run.status == SyncRun.Status.PARTIAL, run.error
    why = reasons(run)
    assert why[hostile].startswith("JSON nested too deeply"), why
    if kind != "zulip_export":  # the Zulip reader takes only messages-*.json
        assert why["aa-huge.json.gz"].startswith("larger than 64 MB uncompressed"), why
    assert run.new > 0 and Message.objects.filter(source=source).count() == run.new
    again = services.archive_import(source=source, path=folder)
    assert (again.new, again.rejected) == (0, run.rejected)
