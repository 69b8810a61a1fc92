"""Mattermost, Slack and Gitter through Perceval's real clients against recorded replies on 127.0.0.1.

These APIs page backwards from the newest message, so a run's cursor may only move once the
whole channel was read: an interrupted run must not skip the older pages it never reached.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from townsquare.sources import services
from townsquare.sources.models import Message, SyncError, SyncRun
from townsquare.sources.tests.factories import SourceFactory
from townsquare.sources.tests.helpers import FIXTURES
from townsquare.sources.tests.replay import ReplayServer, Reply

pytestmark = pytest.mark.django_db


def fixture(kind: str, name: str) -> Any:
    return json.loads((FIXTURES / kind / name).read_text())


# ---------------------------------------------------------------- Mattermost

MM_CHANNEL = "4xp9fdt77pncbef59f4k1qe83o"
MM_POSTS = f"/api/v4/channels/{MM_CHANNEL}/posts"
MM_LIMITS = {"X-Ratelimit-Limit": "10", "X-Ratelimit-Remaining": "9", "X-Ratelimit-Reset": "1"}


def mattermost_server(replay: ReplayServer) -> None:
    replay.add(
        f"/api/v4/channels/{MM_CHANNEL}", Reply(json.dumps(fixture("mattermost", "channel.json")), headers=MM_LIMITS)
    )
    replay.add(f"{MM_POSTS}?page=0", Reply(json.dumps(fixture("mattermost", "posts__page0.json")), headers=MM_LIMITS))
    replay.add(f"{MM_POSTS}?page=1", Reply(json.dumps(fixture("mattermost", "posts__page1.json")), headers=MM_LIMITS))
    replay.add(f"{MM_POSTS}?page=2", Reply(json.dumps(fixture("mattermost", "posts__empty.json")), headers=MM_LIMITS))
    for name in ("ana.lima", "bopark", "devrel-bot"):
        user = fixture("mattermost", f"user__{name}.json")
        replay.add(f"/api/v4/users/{user['id']}", Reply(json.dumps(user), headers=MM_LIMITS))


def mattermost_source(replay: ReplayServer) -> Any:
    return SourceFactory(
        kind="mattermost",
        secrets="mm-token",
        config={"url": replay.base, "channel": MM_CHANNEL, "team": "widgets", "sleep_time": 0.01},
    )


def test_mattermost_posts_arrive_once_with_threads_authors_and_links(replay: ReplayServer) -> None:
    mattermost_server(replay)
    source = mattermost_source(replay)
    run = services.source_sync(source=source)
    assert (run.status, run.new, run.rejected) == ("succeeded", 4, 0), run.error  # the join notice is not a message
    headers = next(r.headers for r in replay.log if r.path == MM_POSTS)
    assert headers["Authorization"] == "Bearer mm-token"
    question = Message.objects.get(source=source, external_id="yh9e6nb9m7f1fq8k1rdbwwcgcr")
    answer = Message.objects.get(source=source, external_id="jrm3s9zpfjbnxe7z6nq1e3h3ae")
    assert question.kind == "chat" and "<strong>refresh</strong>" in question.body_html
    assert (answer.thread_external_id, answer.parent_external_id) == (question.external_id, question.external_id)
    assert answer.url == f"{replay.base}/widgets/pl/jrm3s9zpfjbnxe7z6nq1e3h3ae"
    assert answer.channel.name == "~help" and answer.channel.url == f"{replay.base}/widgets/channels/help"
    assert answer.author.realm == "mattermost:127.0.0.1" and answer.author.handle == "ana.lima"
    assert (answer.author.display_name, answer.author.email) == ("Ana Lima", "ana@example.org")
    edited = Message.objects.get(source=source, external_id="6uq1dq4bpiy8pp3hxpkxjdi4wa")
    assert edited.created_at.isoformat() == "2025-09-08T13:30:00+00:00"
    assert edited.updated_at.isoformat() == "2025-09-08T13:35:00+00:00"
    bot = Message.objects.get(source=source, external_id="hz3qkdn6x7nk7rcgf4opbte1wc").author
    assert bot.is_bot
    source.refresh_from_db()
    assert source.cursor == {"from_date:post": 1757340000.0}  # the newest post, not the last one read

    again = services.source_sync(source=source)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 1)  # Perceval stopped at the first older post
    assert Message.objects.filter(source=source).count() == 4

    page = fixture("mattermost", "posts__page0.json")
    newest = page["posts"]["jrm3s9zpfjbnxe7z6nq1e3h3ae"]
    newest.update(message="Set `refresh: 60` in the widget's settings.", edit_at=1757340300000, update_at=1757340300000)
    replay.replace(f"{MM_POSTS}?page=0", Reply(json.dumps(page), headers=MM_LIMITS))
    third = services.source_sync(source=source)
    assert (third.new, third.updated) == (0, 1)
    answer.refresh_from_db()
    assert answer.version == 2 and "widget's" in answer.body


def test_an_interrupted_mattermost_run_keeps_its_cursor_so_older_pages_are_not_skipped(replay: ReplayServer) -> None:
    mattermost_server(replay)
    replay.replace(f"{MM_POSTS}?page=1", Reply('{"id": "api.context.500", "message": "boom", "status_code": 500}', 500))
    source = mattermost_source(replay)
    first = services.source_sync(source=source)
    assert first.status == SyncRun.Status.FAILED and "HTTP 500" in first.error
    assert first.new == 3  # the newest page is kept
    error = SyncError.objects.get(run=first)
    assert error.record.startswith(f"{replay.base}{MM_POSTS}?") and "page=1" in error.record
    source.refresh_from_db()
    assert source.cursor == {}  # page 1 was never read: moving the cursor would lose it

    replay.replace(
        f"{MM_POSTS}?page=1", Reply(json.dumps(fixture("mattermost", "posts__page1.json")), headers=MM_LIMITS)
    )
    second = services.source_sync(source=source)
    assert (second.status, second.new, second.unchanged) == ("succeeded", 1, 3)
    assert Message.objects.filter(source=source).count() == 4


def test_a_malformed_mattermost_user_reply_names_the_page(replay: ReplayServer) -> None:
    mattermost_server(replay)
    replay.replace("/api/v4/users/q9ud6n1hqprb5xw8ykmq5a1fwe", Reply("<html>502 Bad Gateway</html>"))
    source = mattermost_source(replay)
    run = services.source_sync(source=source)
    assert run.status == SyncRun.Status.FAILED and "malformed response" in run.error
    assert SyncError.objects.get(run=run).record == f"{replay.base}/api/v4/users/q9ud6n1hqprb5xw8ykmq5a1fwe"


# ---------------------------------------------------------------- Slack (api_url: Perceval hard-codes https://slack.com)

SLACK_CHANNEL = "C05HELP123"


def slack(name: str) -> str:
    return (FIXTURES / "slack" / name).read_text()


def slack_server(replay: ReplayServer) -> None:
    replay.add("/api/conversations.info", Reply(slack("conversations_info.json")))
    replay.add("/api/conversations.members", Reply(slack("conversations_members__page1.json")))
    replay.add(
        "/api/conversations.members?cursor=dXNlcjpVMDNDWVJJTA==", Reply(slack("conversations_members__page2.json"))
    )
    replay.add("/api/conversations.history", Reply(slack("conversations_history__page1.json")))
    replay.add("/api/conversations.history?latest=1757336400.000200", Reply(slack("conversations_history__page2.json")))
    replay.add(
        "/api/users.info?user=U01ANALIMA",
        Reply(slack("ratelimited.json"), 429, {"Retry-After": "1"}),
        Reply(slack("users_info__ana.json")),
    )
    replay.add("/api/users.info?user=U02BOPARK0", Reply(slack("users_info__bo.json")))
    replay.add("/api/conversations.replies?ts=1757336400.000200", Reply(slack("conversations_replies__page1.json")))
    replay.add(
        "/api/conversations.replies?ts=1757336400.000200&cursor=bmV4dF90czoxNzU3MzQwMDAwMDAwNDAw",
        Reply(slack("conversations_replies__page2.json")),
    )


def slack_source(replay: ReplayServer) -> Any:
    return SourceFactory(
        kind="slack",
        secrets="xoxb-test",
        config={"channel": SLACK_CHANNEL, "api_url": replay.base, "workspace_url": "https://widgets.slack.com"},
    )


def test_slack_messages_arrive_through_perceval_at_the_configured_api_url(replay: ReplayServer) -> None:
    slack_server(replay)
    source = slack_source(replay)
    run = services.source_sync(source=source)
    # 3 + 1 from history (the join notice is not a message), 1 reply only conversations.replies lists
    assert (run.status, run.new, run.rejected) == ("succeeded", 5, 0), run.error
    assert [r.query.get("cursor") for r in replay.log if r.path == "/api/conversations.replies"] == [
        None,
        ["bmV4dF90czoxNzU3MzQwMDAwMDAwNDAw"],
    ]
    hidden = Message.objects.get(source=source, external_id=f"{SLACK_CHANNEL}:1757339000.000350")
    assert (hidden.parent_external_id, hidden.author.handle) == (f"{SLACK_CHANNEL}:1757336400.000200", "ana")
    assert [r.query.get("cursor") for r in replay.log if r.path == "/api/conversations.members"] == [
        None,
        ["dXNlcjpVMDNDWVJJTA=="],
    ]
    ana_calls = [r for r in replay.log if r.path == "/api/users.info" and r.query["user"] == ["U01ANALIMA"]]
    assert len(ana_calls) == 2 and ana_calls[1].at - ana_calls[0].at >= 0.9  # 429: waited Retry-After, then retried
    assert all(r.headers["Authorization"] == "Bearer xoxb-test" for r in replay.log)

    reply = Message.objects.get(source=source, external_id=f"{SLACK_CHANNEL}:1757340000.000400")
    assert (reply.thread_external_id, reply.parent_external_id) == (f"{SLACK_CHANNEL}:1757336400.000200",) * 2
    assert reply.url == f"https://widgets.slack.com/archives/{SLACK_CHANNEL}/p1757340000000400"
    assert reply.channel.name == "#help"
    assert reply.body == "Set `refresh: 60` in the widget settings (tested by @ana \u2705)."
    assert (reply.author.realm, reply.author.external_id, reply.author.email) == (
        "slack:T0WIDGETS",
        "U01ANALIMA",
        "ana@example.org",
    )
    edited = Message.objects.get(source=source, external_id=f"{SLACK_CHANNEL}:1757338200.000300")
    assert edited.updated_at.isoformat() == "2025-09-08T13:35:00+00:00"
    assert Message.objects.filter(source=source, external_id=f"{SLACK_CHANNEL}:1757257200.000100").exists()  # page 2

    newest = json.loads(slack("conversations_history__page1.json"))
    newest.update(messages=newest["messages"][:1], has_more=False)
    replay.add("/api/conversations.history?oldest=1757340000.000390", Reply(json.dumps(newest)))
    again = services.source_sync(source=source)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 1)  # asked only for what is newer than the cursor

    newest["messages"][0].update(
        text="Set `refresh: 60` in the widget's settings.", edited={"user": "U01ANALIMA", "ts": "1757340300.000000"}
    )
    replay.replace("/api/conversations.history?oldest=1757340000.000390", Reply(json.dumps(newest)))
    third = services.source_sync(source=source)
    assert (third.new, third.updated) == (0, 1)
    reply.refresh_from_db()
    assert reply.version == 2 and "widget's" in reply.body


def test_an_interrupted_slack_run_resumes_from_the_last_complete_read(replay: ReplayServer) -> None:
    slack_server(replay)
    replay.replace(
        "/api/conversations.history?latest=1757336400.000200",
        Reply("<html><body>upstream timed out</body></html>", 200),
    )
    source = slack_source(replay)
    first = services.source_sync(source=source)
    assert first.status == SyncRun.Status.FAILED and "malformed response" in first.error
    assert first.new == 4
    record = SyncError.objects.get(run=first).record
    assert record.startswith(f"{replay.base}/api/conversations.history?") and "latest=1757336400.000200" in record
    source.refresh_from_db()
    assert source.cursor == {}
    replay.replace(
        "/api/conversations.history?latest=1757336400.000200", Reply(slack("conversations_history__page2.json"))
    )
    second = services.source_sync(source=source)
    assert (second.status, second.new, second.unchanged) == ("succeeded", 1, 4)


def test_two_slack_sources_with_different_api_urls_sync_side_by_side_without_crossing(replay: ReplayServer) -> None:
    """The api_url lives on each client's own session: threads syncing other sources are not redirected."""
    import threading

    from townsquare.sources.tests.helpers import read

    other = ReplayServer()
    try:
        slack_server(replay)
        slack_server(other)
        renamed = json.loads(slack("conversations_info.json"))
        renamed["channel"]["name"] = "support"
        other.replace("/api/conversations.info", Reply(json.dumps(renamed)))
        results: dict[str, Any] = {}

        def run(key: str, base: str) -> None:
            results[key] = read("slack", "", channel=SLACK_CHANNEL, api_url=base)[0]

        threads = [
            threading.Thread(target=run, args=(key, server.base)) for key, server in (("a", replay), ("b", other))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert {r.channel.name for r in results["a"]} == {"#help"} and len(results["a"]) == 5
        assert {r.channel.name for r in results["b"]} == {"#support"} and len(results["b"]) == 5
        assert len(replay.log) == len(other.log)  # each server saw exactly its own source's requests
    finally:
        other.close()


# ---------------------------------------------------------------- Gitter (api_url: Perceval hard-codes api.gitter.im)

GITTER_ROOM = "5c1a2b3c4d5e6f7a8b9c0d1e"
GITTER_MESSAGES = f"/rooms/{GITTER_ROOM}/chatMessages"


def gitter_server(replay: ReplayServer) -> None:
    limits = {
        "X-RateLimit-Limit": "100",
        "X-RateLimit-Remaining": "97",
        "X-RateLimit-Reset": str(int(time.time() + 60) * 1000),
    }
    replay.add("/rooms", Reply((FIXTURES / "gitter/rooms.json").read_text(), headers=limits))
    replay.add(GITTER_MESSAGES, Reply((FIXTURES / "gitter/messages__newest.json").read_text(), headers=limits))
    replay.add(
        f"{GITTER_MESSAGES}?beforeId=66a0000000000000000000a3",
        Reply((FIXTURES / "gitter/messages__before_a3.json").read_text(), headers=limits),
    )
    replay.add(f"{GITTER_MESSAGES}?beforeId=66a0000000000000000000a1", Reply("[]", headers=limits))


def test_gitter_messages_arrive_through_perceval_paging_back_with_before_id(replay: ReplayServer) -> None:
    gitter_server(replay)
    source = SourceFactory(
        kind="gitter",
        secrets="gitter-token",
        config={"group": "widgets", "room": "community", "api_url": replay.base, "web_url": "https://app.gitter.im"},
    )
    run = services.source_sync(source=source)
    assert (run.status, run.new, run.rejected) == ("succeeded", 4, 0), run.error
    assert [r.query.get("beforeId") for r in replay.log if r.path == GITTER_MESSAGES] == [
        None,
        ["66a0000000000000000000a3"],
        ["66a0000000000000000000a1"],
    ]
    assert all(r.headers["Authorization"] == "Bearer gitter-token" for r in replay.log)
    answer = Message.objects.get(source=source, external_id="66a0000000000000000000a4")
    assert (answer.parent_external_id, answer.thread_external_id) == ("66a0000000000000000000a2",) * 2
    assert answer.url == "https://app.gitter.im/widgets/community?at=66a0000000000000000000a4"
    assert "<code>refresh: 60</code>" in answer.body_html
    assert (answer.author.realm, answer.author.handle, answer.author.display_name) == ("gitter", "ana-lima", "Ana Lima")
    edited = Message.objects.get(source=source, external_id="66a0000000000000000000a3")
    assert edited.updated_at.isoformat() == "2025-09-08T10:55:00+00:00"
    source.refresh_from_db()
    assert source.cursor == {"from_date:message": 1757329200.0}  # the newest message (a4)

    again = services.source_sync(source=source)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 3)  # Gitter's from_date is a day: 2025-09-08
    edited_page = fixture("gitter", "messages__newest.json")
    edited_page[1].update(text="Set `refresh: 60` in the widget's settings.", editedAt="2025-09-08T11:05:00.000Z")
    replay.replace(GITTER_MESSAGES, Reply(json.dumps(edited_page)))
    third = services.source_sync(source=source)
    assert (third.new, third.updated) == (0, 1)
    answer.refresh_from_db()
    assert answer.version == 2


def test_a_gitter_500_is_listed_and_the_cursor_stays_until_the_room_is_read(replay: ReplayServer) -> None:
    gitter_server(replay)
    replay.replace(f"{GITTER_MESSAGES}?beforeId=66a0000000000000000000a3", Reply('{"error": "Internal error"}', 500))
    source = SourceFactory(
        kind="gitter", secrets="gitter-token", config={"group": "widgets", "room": "community", "api_url": replay.base}
    )
    first = services.source_sync(source=source)
    assert first.status == SyncRun.Status.FAILED and first.new == 2
    error = SyncError.objects.get(run=first)
    assert "beforeId=66a0000000000000000000a3" in error.record and error.reason.startswith("HTTP 500")
    source.refresh_from_db()
    assert source.cursor == {}
    replay.replace(
        f"{GITTER_MESSAGES}?beforeId=66a0000000000000000000a3",
        Reply((FIXTURES / "gitter/messages__before_a3.json").read_text()),
    )
    second = services.source_sync(source=source)
    assert (second.status, second.new, second.unchanged) == ("succeeded", 2, 2)


# ---------------------------------------------------------------- Rocket.Chat

RC_MESSAGES = "/api/v1/channels.messages"


def rocketchat_server(replay: ReplayServer) -> None:
    replay.add("/api/v1/channels.info?roomName=general", Reply(json.dumps(fixture("rocketchat", "channels_info.json"))))
    replay.add(f"{RC_MESSAGES}?offset=0", Reply(json.dumps(fixture("rocketchat", "channels_messages__page1.json"))))
    replay.add(f"{RC_MESSAGES}?offset=2", Reply(json.dumps(fixture("rocketchat", "channels_messages__page2.json"))))


def test_rocketchat_messages_and_thread_replies_arrive_through_perceval(replay: ReplayServer) -> None:
    rocketchat_server(replay)
    source = SourceFactory(
        kind="rocketchat",
        config={"url": replay.base, "channel": "general"},
        secrets='{"token": "rc-token", "user_id": "u-bot"}',
    )
    run = services.source_sync(source=source)
    assert (run.status, run.new, run.rejected) == ("succeeded", 3, 0), run.error  # the join notice is not a message
    assert all(r.headers["X-Auth-Token"] == "rc-token" and r.headers["X-User-Id"] == "u-bot" for r in replay.log)
    opener = Message.objects.get(source=source, external_id="m1")
    assert opener.body == "Webhook signatures fail after the 3.2 upgrade \U0001f61e"
    assert (opener.channel.name, opener.author.display_name) == ("#general", "Ana Lima")
    assert opener.url == f"{replay.base}/channel/general?msg=m1"
    fix = Message.objects.get(source=source, external_id="m3")
    assert (fix.thread_external_id, fix.parent_external_id) == ("m1", "m1") and fix.updated_at is not None
    source.refresh_from_db()
    before = len(replay.log)
    again = services.source_sync(source=source)
    assert again.status == "succeeded" and again.new == 0
    asked = [r.query["query"][0] for r in replay.log[before:] if r.path == RC_MESSAGES]
    assert asked and "2025-03-03T10:00:00" in asked[0]  # resumed from the newest update read


# ---------------------------------------------------------------- Telegram

TG_TOKEN = "123456:ABC-secret-token"
TG_UPDATES = f"/bot{TG_TOKEN}/getUpdates"


def telegram_source(replay: ReplayServer) -> Any:
    return SourceFactory(
        kind="telegram", config={"bot": "acme_bot", "api_url": replay.base}, secrets=json.dumps({"token": TG_TOKEN})
    )


def test_telegram_group_messages_replies_and_edits_arrive_through_perceval(replay: ReplayServer) -> None:
    replay.add(f"{TG_UPDATES}?offset=1", Reply(json.dumps(fixture("telegram", "getupdates__page1.json"))))
    replay.add(f"{TG_UPDATES}?offset=700004", Reply(json.dumps(fixture("telegram", "getupdates__empty.json"))))
    source = telegram_source(replay)
    run = services.source_sync(source=source)
    assert (run.status, run.new, run.rejected) == ("succeeded", 2, 0), run.error  # the join is not a message
    first = Message.objects.get(source=source, external_id="-1001234567890:11")
    assert (first.channel.name, first.author.display_name, first.url) == (
        "Acme Developers",
        "Ana Lima",
        "https://t.me/acme_devs/11",
    )
    reply = Message.objects.get(source=source, external_id="-1001234567890:13")
    assert reply.parent_external_id == "-1001234567890:11" and reply.body == "Same here with <b>quotes</b> in the path"

    replay.replace(f"{TG_UPDATES}?offset=700004", Reply(json.dumps(fixture("telegram", "getupdates__page2.json"))))
    replay.add(f"{TG_UPDATES}?offset=700005", Reply(json.dumps(fixture("telegram", "getupdates__empty.json"))))
    again = services.source_sync(source=source)
    assert (again.new, again.updated) == (0, 1), again.error
    first.refresh_from_db()
    assert first.body.endswith("(2.4.0 and 2.4.1)") and first.updated_at is not None
    assert first.created_at.timestamp() == 1741000000  # the original date, not the edit's


def test_a_refused_telegram_token_is_reported_without_the_token(replay: ReplayServer) -> None:
    replay.add(f"{TG_UPDATES}?offset=1", Reply('{"ok": false, "error_code": 401, "description": "Unauthorized"}', 401))
    run = services.source_sync(source=telegram_source(replay))
    assert run.status == SyncRun.Status.FAILED and "401" in run.error
    stored = run.error + " ".join(SyncError.objects.filter(run=run).values_list("record", flat=True))
    assert TG_TOKEN not in stored and "ABC-secret" not in stored
