"""Matrix read live through the client-server API, against recorded replies on 127.0.0.1."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from django.urls import reverse

from townsquare.sources import services
from townsquare.sources.models import Message, SyncError, SyncRun
from townsquare.sources.tests.factories import SourceFactory
from townsquare.sources.tests.helpers import FIXTURES
from townsquare.sources.tests.replay import ReplayServer, Reply

pytestmark = pytest.mark.django_db

API = "/_matrix/client/v3"
ROOM = quote("!abc:example.org")
SECRET_ROOM = quote("!secret:example.org")
MESSAGES = f"{API}/rooms/{ROOM}/messages"


def recorded(name: str, status: int = 200) -> Reply:
    return Reply((FIXTURES / "matrix" / f"{name}.json").read_text(), status)


def matrix_server(replay: ReplayServer) -> None:
    replay.add(f"{API}/directory/room/{quote('#community:example.org')}", recorded("directory"))
    replay.add(f"{API}/rooms/{ROOM}/state/m.room.name", recorded("room_name"))
    replay.add(f"{API}/rooms/{SECRET_ROOM}/state/m.room.name", recorded("error__forbidden", 403))
    replay.add(f"{API}/rooms/{SECRET_ROOM}/messages", recorded("error__forbidden", 403))
    replay.add(MESSAGES, recorded("messages__page1"))
    replay.add(f"{MESSAGES}?from=t1", recorded("error__rate_limited", 429), recorded("messages__page2"))
    replay.add(f"{MESSAGES}?from=t2", recorded("messages__caught_up"))


def matrix_source(replay: ReplayServer) -> Any:
    return SourceFactory(
        kind="matrix",
        config={"homeserver": replay.base, "rooms": "#community:example.org, !secret:example.org"},
        secrets='{"token": "syt_secret"}',
    )


def test_rooms_are_read_by_alias_with_threads_replies_and_rate_limits(replay: ReplayServer) -> None:
    matrix_server(replay)
    source = matrix_source(replay)
    run = services.source_sync(source=source)
    assert (run.status, run.new, run.rejected) == (SyncRun.Status.PARTIAL, 3, 1), run.error
    error = SyncError.objects.get(run=run)
    assert error.record == "!secret:example.org"
    assert error.reason.startswith("the account cannot read this room (HTTP 403 M_FORBIDDEN")
    assert all(r.headers["Authorization"] == "Bearer syt_secret" for r in replay.log)
    waited = [r for r in replay.log if r.path == MESSAGES and r.query.get("from") == ["t1"]]
    assert len(waited) == 2 and waited[1].at - waited[0].at >= 0.25  # retry_after_ms honoured

    opener = Message.objects.get(source=source, external_id="$e1")
    assert (opener.channel.name, opener.author.external_id) == ("Community", "@ana:example.org")
    thread_reply = Message.objects.get(source=source, external_id="$e2")
    assert (thread_reply.thread_external_id, thread_reply.parent_external_id) == ("$e1", "$e1")
    assert Message.objects.get(source=source, external_id="$e3").parent_external_id == "$e1"
    source.refresh_from_db()
    assert source.cursor["matrix:!abc:example.org"] == "t2"


def test_an_edit_read_by_a_later_run_updates_the_stored_message(replay: ReplayServer) -> None:
    matrix_server(replay)
    source = matrix_source(replay)
    services.source_sync(source=source)
    replay.replace(f"{MESSAGES}?from=t2", recorded("messages__edit"))
    replay.add(f"{MESSAGES}?from=t3", recorded("messages__caught_up_again"))
    replay.add(f"{API}/rooms/{ROOM}/event/{quote('$e1')}", recorded("event__e1"))
    again = services.source_sync(source=source)
    assert (again.new, again.updated) == (0, 1), again.error
    opener = Message.objects.get(source=source, external_id="$e1")
    assert opener.body == "Webhooks time out after 10 s (3.2.0)" and opener.updated_at is not None
    assert not Message.objects.filter(source=source, external_id="$e4").exists()  # an edit is not a message


def test_a_redaction_read_by_a_later_run_removes_the_stored_text(replay: ReplayServer, client_for: Any) -> None:
    matrix_server(replay)
    source = matrix_source(replay)
    services.source_sync(source=source)
    before = Message.objects.get(source=source, external_id="$e3")
    assert before.body and before.deleted_at is None
    replay.replace(f"{MESSAGES}?from=t2", recorded("messages__redaction"))
    replay.add(f"{MESSAGES}?from=t3", recorded("messages__caught_up_again"))
    again = services.source_sync(source=source)
    assert again.status == SyncRun.Status.PARTIAL and again.new == 0  # the unreadable room is still reported
    gone = Message.objects.get(source=source, external_id="$e3")
    assert (gone.body, gone.body_html, gone.title) == ("", "", "") and gone.deleted_at is not None
    assert gone.version == before.version + 1  # feedback processes its new, empty text
    assert Message.objects.get(source=source, external_id="$e1").deleted_at is None  # only the redacted one
    client = client_for("devrel_member")
    assert before.body not in client.get(reverse("sources:messages")).content.decode()
    assert "Deleted upstream" in client.get(reverse("sources:message", args=[gone.pk])).content.decode()
    services.source_sync(source=source)  # nothing new: nothing changes
    assert Message.objects.get(pk=gone.pk).version == gone.version


def test_an_export_with_a_redacted_event_stores_no_text_for_it(tmp_path: Any) -> None:
    export = tmp_path / "room.json"
    export.write_text(
        json.dumps(
            {
                "room_name": "Users",
                "messages": [
                    {
                        "type": "m.room.message",
                        "event_id": "$keep",
                        "sender": "@bo:example.org",
                        "origin_server_ts": 1741000000000,
                        "content": {"msgtype": "m.text", "body": "kept"},
                    },
                    {
                        "type": "m.room.message",
                        "event_id": "$gone",
                        "sender": "@bo:example.org",
                        "origin_server_ts": 1741000100000,
                        "content": {"msgtype": "m.text", "body": "my password is hunter2"},
                    },
                    {
                        "type": "m.room.redaction",
                        "event_id": "$r",
                        "sender": "@bo:example.org",
                        "origin_server_ts": 1741000200000,
                        "content": {"redacts": "$gone"},
                    },
                ],
            }
        )
    )
    source = SourceFactory(kind="matrix_export")
    for _ in range(2):  # a re-import of the same export leaves it deleted
        services.archive_import(source=source, path=export)
        gone = Message.objects.get(source=source, external_id="$gone")
        assert gone.body == "" and gone.deleted_at is not None
    assert Message.objects.get(source=source, external_id="$keep").body == "kept"


def test_a_refused_token_fails_the_run_clearly(replay: ReplayServer) -> None:
    replay.add(
        f"{API}/directory/room/{quote('#community:example.org')}",
        Reply('{"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token"}', 401),
    )
    run = services.source_sync(source=matrix_source(replay))
    assert run.status == SyncRun.Status.FAILED
    assert "refused the access token (HTTP 401 M_UNKNOWN_TOKEN)" in run.error and "syt_secret" not in run.error
