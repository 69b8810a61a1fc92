"""Input that used to be dropped or mangled in silence is a named, counted error or warning on the run."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from townsquare.sources import services
from townsquare.sources.models import Message, SyncError, SyncRun
from townsquare.sources.tests.factories import SourceFactory
from townsquare.sources.tests.test_ingest import msg, slack_zip

pytestmark = pytest.mark.django_db


def listed(run: SyncRun) -> list[tuple[str, str]]:
    return list(SyncError.objects.filter(run=run).values_list("record", "reason"))


def test_slack_members_at_unexpected_paths_are_rejected_by_name(tmp_path: Path) -> None:
    path = slack_zip(tmp_path / "export.zip", {"general/2024-01-01.json": [msg("1704067200.000100", "read")]})
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("export/general/2024-01-02.json", "[]")  # the export zipped inside a folder
        archive.writestr("notes.json", "[]")
        archive.writestr("__MACOSX/general/._2024-01-01.json", "")  # what macOS adds: not data
        archive.writestr("integration_logs.json", "[]")
    run = services.archive_import(source=SourceFactory(kind="slack_export"), path=path)
    assert (run.status, run.new, run.rejected) == (SyncRun.Status.PARTIAL, 1, 2)
    assert sorted(record for record, _ in listed(run)) == ["export/general/2024-01-02.json", "notes.json"]
    assert all("unexpected path" in reason for _, reason in listed(run))


def test_a_slack_export_whose_every_member_is_unexpected_says_so(tmp_path: Path) -> None:
    path = tmp_path / "nested.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("slack/channels.json", "[]")
        archive.writestr("slack/general/2024-01-01.json", "[]")
    run = services.archive_import(source=SourceFactory(kind="slack_export"), path=path)
    assert (run.new, run.rejected) == (0, 2)  # was: 0 new, 0 rejected, "succeeded"
    assert run.status == SyncRun.Status.PARTIAL


def test_a_repeated_id_with_different_content_is_a_warning_naming_it(tmp_path: Path) -> None:
    path = slack_zip(
        tmp_path / "export.zip",
        {
            "general/2024-01-01.json": [msg("1704067200.000100", "first copy"), msg("1704067300.000100", "same")],
            "general/2024-01-02.json": [msg("1704067200.000100", "second copy"), msg("1704067300.000100", "same")],
        },
    )
    run = services.archive_import(source=SourceFactory(kind="slack_export"), path=path)
    assert (run.new, run.rejected, run.warnings) == (2, 0, 2)
    [(record, reason), (summary, note)] = listed(run)
    assert record == "C1:1704067200.000100" and "read more than once" in reason and "last copy" in reason
    assert summary == "duplicate ids" and note.startswith("skipped: 1 record(s) repeated an id")
    assert Message.objects.get(external_id="C1:1704067200.000100").body == "second copy"
    assert Message.objects.count() == 2


def test_a_repeated_id_in_a_later_batch_is_named_too(tmp_path: Path) -> None:
    days = {f"general/2024-01-0{day}.json": [msg(f"17040{day}0000.000100", f"day {day}")] for day in range(1, 4)}
    days["general/2024-01-04.json"] = [msg("1704010000.000100", "edited"), msg("1704020000.000100", "day 2")]
    path = slack_zip(tmp_path / "export.zip", days)
    run = services.archive_import(source=SourceFactory(kind="slack_export"), path=path, batch_size=1)
    assert (run.new, run.updated, run.unchanged, run.warnings) == (3, 1, 1, 2)
    reasons = dict(listed(run))
    assert "read more than once" in reasons["C1:1704010000.000100"]
    assert reasons["duplicate ids"].startswith("skipped: 1 record(s)")
    again = services.archive_import(source=run.source, path=path, batch_size=1)
    assert (again.new, again.updated, again.rejected) == (0, 0, 0) and Message.objects.count() == 3
