"""Archive parsers against the real samples in ../shared/data (counts from its README) and small fixtures."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from townsquare.core.errors import TownsquareError
from townsquare.sources.connectors.pipermail import split_messages
from townsquare.sources.tests.helpers import DATA, FIXTURES, kinds, read

UTC = dt.UTC


def test_it_reads_every_slack_message_and_skips_membership_events() -> None:
    records, errors = read(
        "slack_export",
        DATA / "slack/houstondatavis-slack-export-2016-07-31.zip",
        workspace_url="https://houstondatavis.slack.com",
    )
    # 1,382 entries: 964 plain + 61 file shares + 6 file comments are conversation; 351 are joins, topics...
    assert errors == []
    assert len(records) == 964 + 61 + 6
    assert len({r.external_id for r in records}) == len(records)
    assert len({r.channel.external_id for r in records}) <= 16
    first = records[0]
    assert first.author.realm == "slack:T061A2UFL"
    assert first.author.email_verified is True
    assert first.url.startswith("https://houstondatavis.slack.com/archives/C")
    assert all("<@U" not in r.body for r in records)


def test_it_reports_a_truncated_slack_zip(tmp_path: Path) -> None:
    original = DATA / "slack/houstondatavis-slack-export-2016-07-31.zip"
    truncated = tmp_path / "export.zip"
    truncated.write_bytes(original.read_bytes()[: original.stat().st_size // 2])
    with pytest.raises(TownsquareError, match="truncated or damaged"):
        read("slack_export", truncated)


def test_it_reads_discordchatexporter_html_exports() -> None:
    records, errors = read("discord_export", DATA / "discord/pyscript-discordchatexporter-html")
    # 325 + 217 = 542 exported messages, of which one "started a thread" notification per channel.
    assert errors == []
    assert len(records) == 542 - 2
    assert {r.channel.external_id for r in records} == {"1037015991416258602", "1037014340802453615"}
    assert all(r.author is not None and r.author.realm == "discord" for r in records)
    replies = [r for r in records if r.parent_external_id]
    assert replies and all(r.parent_external_id.isdigit() for r in replies)
    assert records[0].url == "https://discord.com/channels/972017612454232116/1037015991416258602/1037020900664557632"
    assert records[0].created_at == dt.datetime(2022, 11, 1, 15, 10, tzinfo=UTC)


def test_it_reads_raw_discord_api_forum_threads() -> None:
    records, errors = read("discord_export", DATA / "discord/infrahub-discord-forum-api/data.zip")
    # 1,832 messages in 175 threads; 10 of them are "thread renamed" system messages.
    assert errors == []
    assert kinds(records) == {"post": 175, "reply": 1832 - 175 - 10}
    assert len({r.author.external_id for r in records}) == 62
    posts = [r for r in records if r.kind == "post"]
    assert all(p.title and p.thread_external_id == p.external_id for p in posts)


def test_it_reads_discordchatexporter_json() -> None:
    records, errors = read("discord_export", FIXTURES / "discord_export/general__dce.json")
    assert [r.external_id for r in records] == ["1037020900664557632", "1037020900664557999"]
    assert records[1].parent_external_id == "1037020900664557632"
    assert records[1].updated_at == dt.datetime(2022, 11, 1, 15, 13, tzinfo=UTC)
    assert "[attachment] https://cdn.discordapp.com/attachments/1/2/log.txt" in records[1].body
    assert records[0].author.display_name == "Ted"
    assert [e.record for e in errors] == ["general__dce.json#3"]


def test_it_reads_ubuntu_irc_logs_across_midnight() -> None:
    records, errors = read("irc_log", DATA / "irc/ubuntu-irclogs", channel="#ubuntu")
    assert errors == []
    # README: 4,341 messages + 18 other lines (13 "/me" actions, 5 channel notices); 141 nick changes skipped
    assert len(records) == 4341 + 18
    by_id = {r.external_id: r for r in records}
    # 2017-09-02 excerpt: the clock wraps at line 522; lines before belong to Sept 1st.
    before = max(
        (r for r in records if "2017-09-02" in r.external_id and int(r.external_id.rsplit(":", 1)[1]) < 522),
        key=lambda r: int(r.external_id.rsplit(":", 1)[1]),
    )
    after = min(
        (r for r in records if "2017-09-02" in r.external_id and int(r.external_id.rsplit(":", 1)[1]) >= 522),
        key=lambda r: int(r.external_id.rsplit(":", 1)[1]),
    )
    assert before.created_at.date() == dt.date(2017, 9, 1)
    assert after.created_at.date() == dt.date(2017, 9, 2)
    assert by_id["#ubuntu:2017-07-15.train-c.raw:1"].created_at == dt.datetime(2017, 7, 15, 0, 21, tzinfo=UTC)
    assert sum(r.body.startswith(f"* {r.author.handle}") for r in records) == 13


def test_it_reads_limnoria_channel_logs() -> None:
    records, errors = read("irc_log", DATA / "irc/limnoria-channellogger/#fluid-work")
    assert errors == []
    assert len(records) == 3434 + 14
    assert {r.channel.name for r in records} == {"#fluid-work"}
    assert len({r.author.external_id for r in records}) <= 21
    assert records[0].created_at == dt.datetime(2019, 3, 1, 12, 18, 52, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "irssi__townsquare.log",
            [
                ("ana", "morning all", dt.datetime(2019, 3, 3, 14, 1, tzinfo=UTC)),
                ("bo", "hi ana", dt.datetime(2019, 3, 3, 14, 2, tzinfo=UTC)),
                ("bo", "* bo waves", dt.datetime(2019, 3, 3, 14, 3, tzinfo=UTC)),
                ("cy", "late night", dt.datetime(2019, 3, 3, 23, 59, tzinfo=UTC)),
                ("cy", "past midnight", dt.datetime(2019, 3, 4, 0, 1, tzinfo=UTC)),
            ],
        ),
        (
            "weechat__irc.libera.#townsquare.weechatlog.log",
            [
                ("ana", "morning all", dt.datetime(2019, 3, 3, 14, 1, 2, tzinfo=UTC)),
                ("bo", "hi ana", dt.datetime(2019, 3, 3, 14, 2, 3, tzinfo=UTC)),
                ("bo", "* bo waves", dt.datetime(2019, 3, 3, 14, 3, 4, tzinfo=UTC)),
            ],
        ),
        (
            "znc__#townsquare_20190303.log",
            [
                ("ana", "morning all", dt.datetime(2019, 3, 3, 14, 1, 2, tzinfo=UTC)),
                ("bo", "hi ana", dt.datetime(2019, 3, 3, 14, 2, 3, tzinfo=UTC)),
                ("bo", "* bo waves", dt.datetime(2019, 3, 3, 14, 3, 4, tzinfo=UTC)),
            ],
        ),
    ],
)
def test_it_reads_irssi_weechat_and_znc_logs(name: str, expected: list[tuple[str, str, dt.datetime]]) -> None:
    records, errors = read("irc_log", FIXTURES / "irc_log" / name, channel="#townsquare")
    assert errors == []
    assert [(r.author.handle, r.body, r.created_at) for r in records] == expected


def test_it_reads_github_metadata_backup_issues_and_comments() -> None:
    records, errors = read("github_archive", DATA / "github/bitcoin-core-gui-metadata-backup")
    assert errors == []
    assert kinds(records) == {"issue": 341, "comment": 1332}
    assert len({r.author.handle for r in records if r.author}) == 195
    issue = next(r for r in records if r.url == "https://github.com/bitcoin-core/gui/issues/1")
    assert issue.channel.external_id == "bitcoin-core/gui"
    comments = [r for r in records if r.thread_external_id == issue.external_id and r.kind == "comment"]
    assert comments and all(c.url.startswith("https://github.com/bitcoin-core/gui/") for c in comments)


def test_it_reads_a_stack_exchange_posts_dump() -> None:
    records, errors = read("stackexchange_dump", DATA / "stackexchange/datascience.meta.stackexchange.com")
    assert errors == []
    assert kinds(records) == {"question": 257, "answer": 341}  # the 26 tag-wiki posts are not conversation
    answer = next(r for r in records if r.kind == "answer")
    assert answer.parent_external_id.startswith("post:") and answer.url.startswith(
        "https://datascience.meta.stackexchange.com/a/"
    )
    assert "<" not in records[0].body and records[0].body_html


def test_it_reads_stack_exchange_users_and_comments_with_a_bom() -> None:
    records, errors = read("stackexchange_dump", DATA / "stackexchange/history.meta.stackexchange.com")
    assert errors == []
    assert kinds(records) == {"comment": 5176}
    named = [r for r in records if r.author and r.author.display_name]
    assert len(named) > 5000  # names come from Users.xml(.gz)


@pytest.mark.parametrize(
    ("folder", "count", "distinct"),
    [
        ("r-devel", 40, 40),
        # one message (Message-ID <97B8848C-...@icloud.com>) is archived in two quarters
        ("r-package-devel", 194 + 189 + 234 + 129, 745),
    ],
)
def test_it_splits_pipermail_on_the_strict_from_line(folder: str, count: int, distinct: int) -> None:
    records, errors = read("pipermail", DATA / "mailing-lists/pipermail" / folder)
    assert errors == []
    assert len(records) == count
    assert len({r.external_id for r in records}) == distinct
    assert all(r.author is not None and r.author.display_name for r in records)


def test_mailbox_style_splitting_would_over_split_but_ours_does_not() -> None:
    path = DATA / "mailing-lists/pipermail/r-package-devel/2025q1.txt.gz"
    assert sum(1 for _ in split_messages(path)) == 194


def test_it_reads_discourse_topic_json() -> None:
    records, errors = read("discourse_archive", DATA / "discourse/urho3d/t", url="https://discourse.urho3d.io")
    assert errors == []
    # 1,861 posts, of which 3 are "closed.enabled" small actions (post_type 3, empty body): not replies.
    # 77 posts carry the solved plugin's "accepted_answer": true: answers, as in GitHub discussions.
    assert kinds(records) == {"post": 356, "answer": 77, "reply": 1858 - 356 - 77}
    assert len({r.author.external_id for r in records}) == 145
    first = next(r for r in records if r.kind == "post")
    assert first.url.startswith("https://discourse.urho3d.io/t/") and first.body_html


def test_it_skips_discourse_small_actions_and_whispers(tmp_path: Path) -> None:
    def post(number: int, post_type: int, cooked: str, reply_to: int | None = None) -> dict[str, object]:
        return {
            "id": 100 + number,
            "post_number": number,
            "post_type": post_type,
            "cooked": cooked,
            "created_at": f"2024-01-0{number}T10:00:00Z",
            "user_id": number,
            "username": f"u{number}",
            "reply_to_post_number": reply_to,
        }

    topic = {
        "id": 7,
        "slug": "t",
        "title": "Build fails",
        "post_stream": {
            "posts": [
                post(1, 1, "<p>Build fails</p>"),
                post(2, 3, ""),
                post(3, 4, "<p>staff only</p>"),
                post(4, 1, "<p>Same here</p>", reply_to=3),
            ]
        },
    }
    (tmp_path / "t.json").write_text(json.dumps(topic))
    records, errors = read("discourse_archive", tmp_path)
    assert errors == []
    assert [r.external_id for r in records] == ["post:101", "post:104"]
    # A reply to a whisper hangs off the thread, never off a message that was not imported.
    assert records[1].parent_external_id == "post:101"


def test_it_reads_a_matrix_room_export_with_edits_threads_and_redactions() -> None:
    records, errors = read("matrix_export", FIXTURES / "matrix_export")
    by_id = {r.external_id: r for r in records}
    assert list(by_id) == ["$m1", "$m2", "$m3", "$m5"]
    assert by_id["$m2"].body == "Yes, thread_ts is kept" and by_id["$m2"].updated_at is not None
    assert by_id["$m2"].parent_external_id == "$m1"
    assert by_id["$m3"].thread_external_id == "$m1"
    assert by_id["$m5"].body == "* @ana:example.org waves"
    assert by_id["$m1"].url == "https://matrix.to/#/!room:example.org/$m1"
    assert [e.record for e in errors] == ["room__element.json#$bad"]


def test_it_reads_zulip_stream_messages_and_leaves_private_ones_out() -> None:
    records, errors = read("zulip_export", FIXTURES / "zulip_export/export")
    assert [r.external_id for r in records] == ["501", "502", "504"]
    assert records[0].title == "import speed" and records[1].parent_external_id == "501"
    assert records[1].author.email == "bo@example.org" and records[1].author.email_verified
    assert records[2].author.is_bot
    assert "/#narrow/channel/3-general/topic/import%20speed/near/501" in records[0].url
    assert [e.record for e in errors] == ["messages-000001.json#505"]


def test_it_reads_a_zulip_export_tarball(tmp_path: Path) -> None:
    archive = shutil.make_archive(str(tmp_path / "zulip"), "gztar", FIXTURES / "zulip_export")
    records, _ = read("zulip_export", archive)
    assert len(records) == 3


def test_it_reads_github_discussions_graphql_pages() -> None:
    records, errors = read("github_discussions", FIXTURES / "github_discussions")
    by_id = {r.external_id: r for r in records}
    assert by_id["discussion:D_kwDOA1"].kind == "question"
    assert by_id["comment:DC_kwDOA2"].kind == "answer"
    assert by_id["comment:DC_kwDOA3"].parent_external_id == "comment:DC_kwDOA2"
    assert by_id["comment:DC_kwDOA4"].author is None
    assert by_id["discussion:D_kwDOA1"].author.external_id == "1001"  # same key as the GitHub issue connectors
    assert by_id["discussion:D_kwDOA5"].author.is_bot
    assert [e.record for e in errors] == ["discussions__page1.json discussion D_kwDOA6"]


def test_it_reads_limnoria_logs_through_percevals_supybot_backend() -> None:
    records, errors = read(
        "supybot",
        DATA / "irc/limnoria-channellogger/#fluid-work",
        channel="#fluid-work",
        url_template="https://irc-logs.fluidproject.org/{channel}/{year}-{month}-{day}.log",
    )
    assert errors == []
    assert len(records) == 3434 + 14
    first = min(records, key=lambda r: r.created_at)
    assert first.url == "https://irc-logs.fluidproject.org/fluid-work/2019-03-01.log"


def test_a_corrupt_member_in_a_discord_zip_is_reported(tmp_path: Path) -> None:
    target = tmp_path / "data.zip"
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("channel_data.json", '[{"id": "1", "type": 15, "name": "qa", "guild_id": "9"}]')
        archive.writestr(
            "2.json",
            '[{"thread": {"id": "2", "name": "Q", "guild_id": "9"}, "messages": '
            '[{"id": "3", "type": 0, "content": "ok", "timestamp": "2024-01-01T00:00:00+00:00", "author": {"id": "7"}},'
            ' {"id": "2", "type": 0, "content": "first", "timestamp": "2024-01-01T00:00:00+00:00", "author": {"id": "7"}}]}]',
        )
        archive.writestr("4.json", "{not json")
    records, errors = read("discord_export", target)
    assert [r.external_id for r in records] == ["2", "3"]
    assert errors[0].record == "data.zip/4.json" and "not valid JSON" in errors[0].reason
