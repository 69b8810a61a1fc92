"""The ingestion service: upserts, idempotent re-runs, edits, resumes, bad records, hostile bodies."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from townsquare.people.models import Identity, Member
from townsquare.sources import ingest, liveness, services
from townsquare.sources.connectors.discourse_archive import DiscourseArchiveConnector
from townsquare.sources.models import Message, SyncError, SyncRun
from townsquare.sources.tests.factories import SourceFactory, SyncRunFactory
from townsquare.sources.tests.helpers import DATA, GoesAwayAfter, registered

pytestmark = pytest.mark.django_db

SLACK = DATA / "slack/houstondatavis-slack-export-2016-07-31.zip"


def slack_zip(path: Path, days: dict[str, list[dict[str, Any]]], users: list[dict[str, Any]] | None = None) -> Path:
    """A small Slack export: {"general/2024-01-01.json": [messages]}."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("channels.json", json.dumps([{"id": "C1", "name": "general"}]))
        archive.writestr(
            "users.json",
            json.dumps(
                users
                or [
                    {
                        "id": "U1",
                        "team_id": "T1",
                        "name": "ana",
                        "real_name": "Ana Lima",
                        "profile": {"email": "ana@example.org"},
                    },
                    {"id": "U2", "team_id": "T1", "name": "bo", "real_name": "Bo Park", "profile": {}},
                ]
            ),
        )
        for name, messages in days.items():
            archive.writestr(name, json.dumps(messages) if not isinstance(messages, str) else messages)
    return path


def msg(ts: str, text: str, user: str = "U1", **extra: Any) -> dict[str, Any]:
    return {"type": "message", "user": user, "text": text, "ts": ts, **extra}


def test_a_rerun_of_the_same_archive_changes_nothing_and_duplicates_nothing() -> None:
    source = SourceFactory(kind="slack_export")
    first = services.archive_import(source=source, path=SLACK)
    second = services.archive_import(source=source, path=SLACK)
    assert (first.status, first.new, first.rejected) == ("succeeded", 1031, 0)
    assert (second.new, second.updated, second.unchanged) == (0, 0, 1031)
    assert Message.objects.filter(source=source).count() == 1031
    assert Identity.objects.filter(realm="slack:T061A2UFL").count() == Member.objects.count()


def test_it_updates_an_edited_message_in_place_and_bumps_its_version(tmp_path: Path) -> None:
    source = SourceFactory(kind="slack_export")
    services.archive_import(
        source=source,
        path=slack_zip(
            tmp_path / "a.zip",
            {"general/2024-01-01.json": [msg("1704067200.000100", "first"), msg("1704067260.000200", "typo heer")]},
        ),
    )
    original = Message.objects.get(source=source, external_id="C1:1704067260.000200")
    run = services.archive_import(
        source=source,
        path=slack_zip(
            tmp_path / "b.zip",
            {
                "general/2024-01-01.json": [
                    msg("1704067200.000100", "first"),
                    msg("1704067260.000200", "typo here", edited={"user": "U1", "ts": "1704067300.000000"}),
                ]
            },
        ),
    )
    edited = Message.objects.get(source=source, external_id="C1:1704067260.000200")
    assert (run.new, run.updated, run.unchanged) == (0, 1, 1)
    assert edited.pk == original.pk
    assert (edited.body, edited.version) == ("typo here", 2)
    assert edited.updated_at is not None


def test_a_newer_export_rereads_only_the_day_files_that_changed(tmp_path: Path) -> None:
    source = SourceFactory(kind="slack_export")
    day_one = [msg("1704067200.000100", "first"), msg("1704067260.000200", "second")]
    services.archive_import(source=source, path=slack_zip(tmp_path / "a.zip", {"general/2024-01-01.json": day_one}))
    newer = slack_zip(
        tmp_path / "b.zip",
        {"general/2024-01-01.json": day_one, "general/2024-01-02.json": [msg("1704153600.000100", "next day")]},
    )
    run = services.archive_import(source=source, path=newer)
    assert (run.new, run.updated, run.unchanged) == (1, 0, 2)
    source.refresh_from_db()
    assert set(source.cursor["fingerprints"]["units"]) == {"general/2024-01-01.json", "general/2024-01-02.json"}


def test_it_keeps_good_records_when_one_is_malformed(tmp_path: Path) -> None:
    source = SourceFactory(kind="slack_export")
    path = slack_zip(
        tmp_path / "export.zip",
        {
            "general/2024-01-01.json": [
                msg("1704067200.000100", "good one"),
                {"type": "message", "user": "U1", "text": "no ts"},
                msg("not-a-number", "bad ts"),
                msg("1704067300.000100", "good two"),
            ],
            "general/2024-01-02.json": "{this is not json",
        },
    )
    run = services.archive_import(source=source, path=path)
    assert run.status == SyncRun.Status.PARTIAL
    assert (run.new, run.rejected) == (2, 3)
    reasons = {e.record: e.reason for e in SyncError.objects.filter(run=run)}
    assert "general/2024-01-01.json#1" in reasons and "KeyError" in reasons["general/2024-01-01.json#1"]
    assert "general/2024-01-01.json#2" in reasons
    assert reasons["general/2024-01-02.json"].startswith("not valid JSON")
    again = services.archive_import(source=source, path=path)
    assert (again.new, again.unchanged, again.rejected) == (0, 2, 3)
    assert Message.objects.filter(source=source).count() == 2


def test_hostile_bodies_are_sanitised_capped_and_cleaned(tmp_path: Path) -> None:
    source = SourceFactory(kind="matrix_export")
    huge = "A" * (ingest.MAX_BODY_CHARS + 5000)
    events = [
        {
            "type": "m.room.message",
            "event_id": "$x1",
            "sender": "@evil:example.org",
            "origin_server_ts": 1714550400000,
            "room_id": "!r:example.org",
            "content": {
                "msgtype": "m.text",
                "body": "hi\x00there\x07\x1b[31m",
                "format": "org.matrix.custom.html",
                "formatted_body": '<p onclick="x()">hi<script>alert(1)</script><a href="javascript:alert(1)">x</a></p>',
            },
        },
        {
            "type": "m.room.message",
            "event_id": "$x2",
            "sender": "@evil:example.org",
            "origin_server_ts": 1714550460000,
            "room_id": "!r:example.org",
            "content": {"msgtype": "m.text", "body": huge},
        },
    ]
    path = tmp_path / "room.json"
    path.write_text(json.dumps({"room_name": "evil", "messages": events}))
    run = services.archive_import(source=source, path=path)
    first = Message.objects.get(source=source, external_id="$x1")
    assert first.body == "hithere[31m"
    assert (
        "<script" not in first.body_html and "onclick" not in first.body_html and "javascript:" not in first.body_html
    )
    second = Message.objects.get(source=source, external_id="$x2")
    assert len(second.body) < ingest.MAX_BODY_CHARS + 200
    assert "truncated" in second.body
    assert run.rejected == 0 and run.new == 2
    note = SyncError.objects.get(run=run)
    assert note.record == "$x2" and note.reason.startswith("kept: body was 105,000 characters")


def test_an_unknown_encoding_is_read_without_losing_the_message(tmp_path: Path) -> None:
    source = SourceFactory(kind="irc_log")
    path = tmp_path / "#legacy.2019-03-01.log"
    path.write_bytes(
        "2019-03-01T10:00:00  <zoë> café crème\n".encode("latin-1") + "2019-03-01T10:01:00  <bo> ok ✓\n".encode()
    )
    run = services.archive_import(source=source, path=path)
    assert run.new == 2
    assert Message.objects.get(source=source, external_id__endswith=":1").body == "café crème"


def test_a_truncated_zip_fails_the_run_with_a_clear_error(tmp_path: Path) -> None:
    source = SourceFactory(kind="slack_export")
    broken = tmp_path / "export.zip"
    broken.write_bytes(SLACK.read_bytes()[:100_000])
    run = services.archive_import(source=source, path=broken)
    assert run.status == SyncRun.Status.FAILED
    assert "truncated or damaged" in run.error
    assert Message.objects.filter(source=source).count() == 0


class CrashingDiscourseArchive(GoesAwayAfter, DiscourseArchiveConnector):
    fail_after = 700


def test_an_interrupted_import_resumes_where_it_stopped_without_duplicates(monkeypatch: pytest.MonkeyPatch) -> None:
    source = SourceFactory(kind="discourse_archive", config={"url": "https://discourse.urho3d.io"})
    path = DATA / "discourse/urho3d/t"
    with registered(monkeypatch, "discourse_archive", CrashingDiscourseArchive):
        first = services.source_sync(source=source, path=path, batch_size=200)
    assert first.status == SyncRun.Status.FAILED and "connection was reset" in first.error
    assert first.new == 700  # three batches of 200, and the 100 read before the failure
    source.refresh_from_db()
    assert source.cursor["archive"]["position"] == 700
    second = services.archive_import(source=source, path=path, batch_size=200)
    assert second.status == SyncRun.Status.SUCCEEDED
    assert (second.new, second.unchanged) == (1858 - 700, 0)
    assert Message.objects.filter(source=source).count() == 1858
    third = services.archive_import(source=source, path=path)
    assert (third.new, third.unchanged) == (0, 1858)


class KilledDiscourseArchive(GoesAwayAfter, DiscourseArchiveConnector):
    fail_after = 700

    def failure(self, record: int) -> BaseException:
        return SystemExit(f"worker stopped at record {record}")  # not caught: the process ends here


def test_a_killed_import_loses_only_its_uncommitted_batch_and_resumes_after_the_last(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = SourceFactory(kind="discourse_archive", config={"url": "https://discourse.urho3d.io"})
    path = DATA / "discourse/urho3d/t"
    with registered(monkeypatch, "discourse_archive", KilledDiscourseArchive), pytest.raises(SystemExit):
        services.source_sync(source=source, path=path, batch_size=200)
    killed = SyncRun.objects.get(source=source)
    assert (killed.status, killed.new) == (SyncRun.Status.RUNNING, 600)  # three batches; the fourth died
    source.refresh_from_db()
    assert source.cursor["archive"]["position"] == 600
    # The "killed" process is this one: say it ran on another host, silent for longer than the stale limit.
    SyncRun.objects.filter(pk=killed.pk).update(host="elsewhere", heartbeat_at=timezone.now() - dt.timedelta(hours=1))
    resumed = services.archive_import(source=source, path=path, batch_size=200)
    assert (resumed.status, resumed.new, resumed.unchanged) == (SyncRun.Status.SUCCEEDED, 1858 - 600, 0)
    assert Message.objects.filter(source=source).count() == 1858
    killed.refresh_from_db()
    assert killed.status == SyncRun.Status.FAILED and "interrupted" in killed.error


def test_a_killed_run_is_marked_interrupted_by_the_next_one() -> None:
    source = SourceFactory(kind="slack_export")
    dead = SyncRunFactory(
        source=source,
        status=SyncRun.Status.RUNNING,
        finished_at=None,
        heartbeat_at=timezone.now() - liveness.QUEUED_WINDOW * 2,
    )
    run = services.archive_import(source=source, path=SLACK)
    dead.refresh_from_db()
    assert dead.status == SyncRun.Status.FAILED and "interrupted" in dead.error
    assert run.status == SyncRun.Status.SUCCEEDED


def test_a_second_sync_is_refused_while_one_is_alive() -> None:
    source = SourceFactory(kind="slack_export")
    SyncRunFactory(source=source, status=SyncRun.Status.RUNNING, finished_at=None, heartbeat_at=timezone.now())
    run = services.archive_import(source=source, path=SLACK)
    assert run.status == SyncRun.Status.FAILED and "already running" in run.error
    assert Message.objects.count() == 0


def test_one_identity_per_platform_account_across_sources() -> None:
    one = SourceFactory(kind="discord_export")
    two = SourceFactory(kind="discord_export")
    html = DATA / "discord/pyscript-discordchatexporter-html"
    services.archive_import(source=one, path=html / "PyScript_General-pyscript-bugs_1037015991416258602.html.gz")
    services.archive_import(source=two, path=html / "PyScript_General-pyscript-docs_1037014340802453615.html.gz")
    authors = Message.objects.order_by().values_list("author__realm", "author__external_id").distinct()
    assert Identity.objects.filter(realm="discord").count() == len(authors)
    assert Member.objects.count() == Identity.objects.count()


def test_sync_all_keeps_going_when_one_source_fails(settings: Any) -> None:
    settings.SOURCES_IMPORT_DIR = DATA
    broken = SourceFactory(name="a broken", kind="slack_export", config={"path": str(DATA / "missing.zip")})
    good = SourceFactory(name="b good", kind="slack_export", config={"path": str(SLACK)})
    SourceFactory(name="c disabled", kind="slack_export", enabled=False)
    runs = services.sources_sync_all()
    assert [(r.source.name, r.status) for r in runs] == [("a broken", "failed"), ("b good", "succeeded")]
    assert "does not exist" in runs[0].error
    assert Message.objects.filter(source=good).count() == 1031
    assert not Message.objects.filter(source=broken).exists()


def test_sources_are_due_on_their_own_schedule() -> None:
    never = SourceFactory(schedule="*/10 * * * *", config={"path": "/srv/exports/slack.zip"})
    recent = SourceFactory(schedule="0 3 * * *", config={"path": "/srv/exports/slack.zip"})
    SyncRunFactory(source=recent)
    SourceFactory(schedule="", config={"path": "/srv/exports/slack.zip"})
    SourceFactory(schedule="* * * * *", enabled=False, config={"path": "/srv/exports/slack.zip"})
    SourceFactory(schedule="* * * * *")  # an archive source whose upload was read and deleted: nothing to read
    assert services.sources_due() == [never]


def test_it_stores_identities_with_verified_slack_emails() -> None:
    source = SourceFactory(kind="slack_export")
    services.archive_import(source=source, path=SLACK)
    identity = Identity.objects.get(realm="slack:T061A2UFL", external_id="U061A3E0G")
    assert identity.email == "javier@intentive.info" and identity.email_verified
    assert identity.member.primary_email == "javier@intentive.info"


def test_it_imports_every_real_archive_kind_once(tmp_path: Path) -> None:
    cases = [
        ("github_archive", DATA / "github/bitcoin-core-gui-metadata-backup", 341 + 1332),
        ("stackexchange_dump", DATA / "stackexchange/datascience.meta.stackexchange.com", 598),
        ("pipermail", DATA / "mailing-lists/pipermail/r-package-devel", 745),
        ("irc_log", DATA / "irc/limnoria-channellogger/#fluid-work", 3448),
        ("discord_export", DATA / "discord/infrahub-discord-forum-api/data.zip", 1822),
    ]
    for kind, path, expected in cases:
        source = SourceFactory(kind=kind)
        run = services.archive_import(source=source, path=path)
        assert (kind, run.status, Message.objects.filter(source=source).count()) == (kind, "succeeded", expected)
        assert not Message.objects.filter(source=source, created_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_a_batch_the_database_refuses_is_retried_record_by_record() -> None:
    from townsquare.sources.models import Channel

    source = SourceFactory(kind="irc_log")
    deleted = []

    def delete_channels_once(run: SyncRun) -> None:
        # Another process removes the channel this run has cached: the next batch's foreign key fails.
        if not deleted and run.new:
            deleted.append(Channel.objects.filter(source=source).delete())

    run = services.source_sync(
        source=source,
        path=DATA / "irc/limnoria-channellogger/#fluid-work",
        batch_size=500,
        progress=delete_channels_once,
    )
    assert deleted
    assert (run.status, run.new, run.rejected) == ("succeeded", 3448, 0)
    assert Message.objects.filter(source=source, channel__isnull=False).count() == 3448 - 500
    assert connection.vendor in ("sqlite", "postgresql")


def test_statistics_are_refreshed_during_a_large_import(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest, "ANALYZE_EVERY", 500)  # production: every 100,000 new rows
    source = SourceFactory(kind="discourse_archive")
    run = services.source_sync(source=source, path=DATA / "discourse/urho3d/t", batch_size=300)
    assert (run.status, run.new) == ("succeeded", 1858)
    source.refresh_from_db()
    assert source.cursor["archive"]["position"] == 0
