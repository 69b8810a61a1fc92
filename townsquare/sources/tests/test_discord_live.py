"""Discord read live through the bot REST API, against recorded replies on 127.0.0.1."""

from __future__ import annotations

from typing import Any

import pytest

from townsquare.people.models import Identity
from townsquare.sources import services
from townsquare.sources.connectors.discord_live import snowflake_at, snowflake_ms
from townsquare.sources.models import Message, SyncError, SyncRun
from townsquare.sources.tests.factories import SourceFactory
from townsquare.sources.tests.helpers import FIXTURES
from townsquare.sources.tests.replay import ReplayServer, Reply

pytestmark = pytest.mark.django_db

GUILD, HELP, FORUM, STAFF = "900000000000000001", "900000000000000010", "900000000000000020", "900000000000000030"
M1, M2, M3, M4 = "1345334752051200000", "1345336010342400000", "1345339785216000000", "1345666940928000000"
POST, OLD_POST, REPLY = "1345319652556800000", "1335172792320000000", "1345327202304000000"


def recorded(name: str) -> Reply:
    return Reply((FIXTURES / "discord" / f"{name}.json").read_text())


def discord_server(replay: ReplayServer) -> None:
    replay.add(f"/guilds/{GUILD}", recorded("guild"))
    replay.add(f"/guilds/{GUILD}/channels", recorded("guild_channels"))
    replay.add(f"/guilds/{GUILD}/threads/active", recorded("threads_active"))
    replay.add(f"/channels/{HELP}/threads/archived/public", recorded("threads_archived__empty"))
    replay.add(f"/channels/{FORUM}/threads/archived/public", recorded("threads_archived__forum"))
    replay.add(f"/channels/{STAFF}/threads/archived/public", Reply(recorded("error__missing_access").body, 403))
    # A 429 first (retry_after 0.4 s), then the page; a 500 before the second page.
    replay.add(
        f"/channels/{HELP}/messages?after=0",
        Reply(recorded("error__rate_limited").body, 429),
        recorded("messages__help_page1"),
    )
    replay.add(
        f"/channels/{HELP}/messages?after={M2}",
        Reply("upstream error", 500),
        recorded("messages__help_page2"),
    )
    replay.add(f"/channels/{STAFF}/messages", Reply(recorded("error__missing_access").body, 403))
    replay.add(f"/channels/{POST}/messages?after=0", recorded("messages__forum_thread"))
    replay.add(f"/channels/{POST}/messages?after={REPLY}", Reply("[]"))  # a full page: one more is asked for
    replay.add(f"/channels/{OLD_POST}/messages?after=0", Reply("<html>gateway timeout</html>", 200))
    replay.add(f"/guilds/{GUILD}/members/111111111111111111", recorded("member__ana"))
    replay.fallback(f"/guilds/{GUILD}/members/", Reply('{"message": "Unknown Member", "code": 10007}', 404))


def discord_source(replay: ReplayServer, **config: Any) -> Any:
    return SourceFactory(
        kind="discord",
        config={"guild_id": GUILD, "api_url": replay.base, "page_size": 2, **config},
        secrets='{"token": "bot-secret"}',
    )


def test_a_guild_is_read_with_its_forum_threads_names_and_rate_limits(replay: ReplayServer) -> None:
    discord_server(replay)
    source = discord_source(replay)
    run = services.source_sync(source=source)
    assert (run.status, run.new, run.rejected) == (SyncRun.Status.PARTIAL, 5, 2), run.error
    errors = dict(SyncError.objects.filter(run=run).values_list("record", "reason"))
    assert errors["#staff-only"].startswith("the bot cannot read this channel (HTTP 403 Missing Access)")
    assert errors["#Old question"].startswith("the answer is not JSON (a malformed page) at http://127.0.0.1")
    assert all(r.headers["Authorization"] == "Bot bot-secret" for r in replay.log)
    help_calls = [r for r in replay.log if r.path == f"/channels/{HELP}/messages"]
    assert help_calls[1].at - help_calls[0].at >= 0.35  # waited out retry_after before asking again

    thanks = Message.objects.get(source=source, external_id=M2)
    assert thanks.body == "@Ana Lima thanks, that fixed it \U0001f389 :blobcat:"
    assert thanks.parent_external_id == M1 and thanks.channel.name == "#help"
    assert Message.objects.get(source=source, external_id=M1).body.endswith("see #questions")
    # The server nickname wins over the global name; a member with none keeps their username.
    assert Identity.objects.get(external_id="111111111111111111").display_name == "Ana (Acme)"
    assert Identity.objects.get(external_id="222222222222222222").display_name == "bo_park"
    assert Identity.objects.get(external_id="333333333333333333").is_bot

    post = Message.objects.get(source=source, external_id=POST)
    assert (post.kind, post.title, post.channel.name) == ("post", "Build fails on arm64", "#questions")
    reply = Message.objects.get(source=source, external_id=REPLY)
    assert (reply.kind, reply.thread_external_id) == ("reply", POST)
    source.refresh_from_db()
    assert source.cursor[f"discord:{HELP}"] == M3 and f"discord:{OLD_POST}" not in source.cursor


def test_the_next_run_resumes_after_the_cursor_and_picks_up_an_edit(replay: ReplayServer) -> None:
    discord_server(replay)
    source = discord_source(replay, lookback_hours=0)
    services.source_sync(source=source)
    resume_from = snowflake_at(snowflake_ms(int(M3)))
    replay.add(f"/channels/{HELP}/messages?after={resume_from}", recorded("messages__help_after_edit"))
    replay.add(f"/channels/{HELP}/messages?after={M4}", Reply("[]"))
    replay.replace(f"/channels/{OLD_POST}/messages?after=0", Reply("[]"))
    before = len(replay.log)
    again = services.source_sync(source=source)
    assert (again.new, again.updated) == (1, 1), again.error
    asked = [r.query.get("after") for r in replay.log[before:] if r.path == f"/channels/{HELP}/messages"]
    assert asked[0] == [str(resume_from)]
    # The forum post's thread has nothing newer than its cursor: not asked again.
    assert not [r for r in replay.log[before:] if r.path == f"/channels/{POST}/messages"]
    assert "moved to" in Message.objects.get(source=source, external_id=M3).body
    # Known authors keep their stored server name and are not looked up again.
    assert not [r for r in replay.log[before:] if r.path.startswith(f"/guilds/{GUILD}/members/")]
    assert Identity.objects.get(external_id="111111111111111111").display_name == "Ana (Acme)"


def test_a_refused_token_fails_the_run_with_a_clear_error(replay: ReplayServer) -> None:
    replay.add(f"/guilds/{GUILD}/channels", Reply('{"message": "401: Unauthorized", "code": 0}', 401))
    run = services.source_sync(source=discord_source(replay))
    assert run.status == SyncRun.Status.FAILED
    assert "Discord refused the bot token (HTTP 401)" in run.error
    assert "bot-secret" not in run.error
