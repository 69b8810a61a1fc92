"""Zulip read live through its REST API, against recorded replies on 127.0.0.1: topics are threads."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from townsquare.sources import services
from townsquare.sources.models import Message, SyncError, SyncRun
from townsquare.sources.tests.factories import SourceFactory
from townsquare.sources.tests.helpers import FIXTURES
from townsquare.sources.tests.replay import ReplayServer, Reply

pytestmark = pytest.mark.django_db

MESSAGES = "/api/v1/messages"
HELP = json.dumps([{"operator": "channel", "operand": "help"}])
SECRET = json.dumps([{"operator": "channel", "operand": "secret"}])


def recorded(name: str, status: int = 200) -> Reply:
    return Reply((FIXTURES / "zulip" / f"{name}.json").read_text(), status)


def zulip_source(replay: ReplayServer) -> Any:
    return SourceFactory(
        kind="zulip",
        config={"url": replay.base, "email": "townsquare-bot@example.com", "streams": "help, secret", "page_size": 2},
        secrets='{"token": "zulip-key"}',
    )


def test_a_stream_is_read_with_topics_as_threads_and_rate_limits(replay: ReplayServer) -> None:
    replay.add(
        f"{MESSAGES}?anchor=oldest&narrow={HELP}", recorded("error__rate_limited", 429), recorded("messages__page1")
    )
    replay.add(f"{MESSAGES}?anchor=102&narrow={HELP}", recorded("messages__page2"))
    replay.add(f"{MESSAGES}?narrow={SECRET}", recorded("error__no_stream", 400))
    source = zulip_source(replay)
    run = services.source_sync(source=source)
    assert (run.status, run.new, run.rejected) == (SyncRun.Status.PARTIAL, 3, 1), run.error
    error = SyncError.objects.get(run=run)
    assert error.record == "#secret" and "Invalid channel name 'secret'" in error.reason
    expected = "Basic " + base64.b64encode(b"townsquare-bot@example.com:zulip-key").decode()
    assert all(r.headers["Authorization"] == expected for r in replay.log)
    first_calls = [r for r in replay.log if r.query.get("anchor") == ["oldest"] and r.query["narrow"] == [HELP]]
    assert len(first_calls) == 2 and first_calls[1].at - first_calls[0].at >= 0.25  # waited out retry-after
    assert [r.query["include_anchor"] for r in replay.log if r.query.get("anchor") == ["102"]] == [["false"]]

    opener = Message.objects.get(source=source, external_id="101")
    assert (opener.title, opener.thread_external_id, opener.channel.name) == ("webhook timeouts", "101", "#help")
    reply = Message.objects.get(source=source, external_id="102")
    assert (reply.title, reply.thread_external_id, reply.parent_external_id) == ("", "101", "101")
    assert reply.body == "Same for us, blocking our rollout" and "<strong>" in reply.body_html
    assert Message.objects.get(source=source, external_id="103").author.is_bot
    source.refresh_from_db()
    assert source.cursor["zulip:help"] == "103"


def test_the_next_run_looks_back_for_edits_and_keeps_a_topic_across_runs(replay: ReplayServer) -> None:
    replay.add(f"{MESSAGES}?anchor=oldest&narrow={HELP}", recorded("messages__page1"))
    replay.add(f"{MESSAGES}?anchor=102&narrow={HELP}", recorded("messages__page2"))
    replay.add(f"{MESSAGES}?narrow={SECRET}", recorded("error__no_stream", 400))
    source = zulip_source(replay)
    services.source_sync(source=source)
    replay.add(f"{MESSAGES}?anchor=103&num_after=0&narrow={HELP}", recorded("messages__lookback"))
    replay.replace(f"{MESSAGES}?anchor=102&narrow={HELP}", recorded("messages__edit"))
    replay.add(f"{MESSAGES}?anchor=103&num_after=2&narrow={HELP}", recorded("messages__new"))
    again = services.source_sync(source=source)
    assert (again.new, again.updated) == (1, 1), again.error
    assert Message.objects.get(source=source, external_id="102").body == "Same for us on 3.2.0 and 3.2.1"
    # A new message in a topic opened by an earlier run joins that topic's thread.
    later = Message.objects.get(source=source, external_id="104")
    assert (later.thread_external_id, later.parent_external_id, later.title) == ("101", "101", "")


def test_a_refused_key_fails_the_run_without_showing_it(replay: ReplayServer) -> None:
    replay.add(MESSAGES, Reply('{"result": "error", "msg": "Invalid API key", "code": "UNAUTHORIZED"}', 401))
    run = services.source_sync(source=zulip_source(replay))
    assert run.status == SyncRun.Status.FAILED
    assert "Zulip refused the bot's API key (HTTP 401)" in run.error and "zulip-key" not in run.error
