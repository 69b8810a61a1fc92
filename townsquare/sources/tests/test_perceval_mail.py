"""Mailing lists and news through Perceval's real code: NNTP (a tiny server on 127.0.0.1), HyperKitty and
groups.io (recorded replies on 127.0.0.1)."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest

from townsquare.sources import services
from townsquare.sources.connectors.perceval.mail import NNTPConnector
from townsquare.sources.models import Message, SyncError, SyncRun
from townsquare.sources.tests.factories import SourceFactory
from townsquare.sources.tests.helpers import DATA, FIXTURES, GoesAwayAfter, registered
from townsquare.sources.tests.nntp_server import NNTPServer
from townsquare.sources.tests.replay import ReplayServer, Reply

pytestmark = pytest.mark.django_db
GROUP = "comp.lang.widgets"


def article(number: int) -> bytes:
    return (FIXTURES / "nntp" / f"article__{number}.txt").read_bytes()


@pytest.fixture
def news() -> Iterator[NNTPServer]:
    server = NNTPServer(GROUP)
    for number in (1, 2, 4):
        server.add(number, article(number))
    server.missing.add(3)  # listed in the overview, but the server no longer has it
    try:
        yield server
    finally:
        server.close()


def news_source(news: NNTPServer) -> Any:
    return SourceFactory(
        kind="nntp",
        config={
            "host": "127.0.0.1",
            "port": news.port,
            "group": GROUP,
            "web_url": "https://inbox.example.org/{group}/{message_id}/",
        },
    )


def test_newsgroup_articles_arrive_through_perceval_and_a_refused_article_is_listed(news: NNTPServer) -> None:
    source = news_source(news)
    run = services.source_sync(source=source)
    assert (run.status, run.new, run.rejected) == ("partial", 3, 1), run.error
    error = SyncError.objects.get(run=run)
    assert (error.record, error.reason) == (f"{GROUP} article 3", "the server refused it: 430 No such article")
    assert [c for c in news.commands if c.split()[0] in ("GROUP", "OVER", "ARTICLE")] == [
        f"GROUP {GROUP}",
        "OVER 1-4",
        "ARTICLE 1",
        "ARTICLE 2",
        "ARTICLE 3",
        "ARTICLE 4",
    ]

    question = Message.objects.get(source=source, external_id="refresh-q1@news.example.org")
    assert (question.kind, question.title) == ("email", "Widget refresh interval?")
    assert ".dotted line starts with a dot" in question.body  # dot-stuffing undone
    assert question.created_at.isoformat() == "2025-09-08T10:20:00+00:00"
    assert question.url == "https://inbox.example.org/comp.lang.widgets/refresh-q1@news.example.org/"
    assert (question.author.realm, question.author.external_id, question.author.display_name) == (
        "email",
        "ana@example.org",
        "Ana Lima",
    )
    reply = Message.objects.get(source=source, external_id="refresh-a2@news.example.org")
    assert (reply.thread_external_id, reply.parent_external_id) == (
        "refresh-q1@news.example.org",
        "refresh-a1@news.example.org",
    )
    assert "thanks Bo" in reply.body and reply.channel.name == source.name
    source.refresh_from_db()
    assert source.cursor == {"offset": 5}

    again = services.source_sync(source=source)
    assert (again.status, again.new, again.updated, again.unchanged) == ("succeeded", 0, 0, 0)
    assert news.commands.count("ARTICLE 1") == 1  # nothing was read twice

    news.add(5, article(5))  # Bo supersedes (edits) his answer
    edited = services.source_sync(source=source)
    assert (edited.new, edited.updated) == (0, 1)
    answer = Message.objects.get(source=source, external_id="refresh-a1@news.example.org")
    assert answer.version == 2 and "widget's settings" in answer.body
    assert Message.objects.filter(source=source).count() == 3
    assert "OVER 5-5" in news.commands


class CrashingNNTP(GoesAwayAfter, NNTPConnector):
    fail_after = 2


def test_an_interrupted_newsgroup_run_resumes_at_the_next_article(
    news: NNTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = news_source(news)
    with registered(monkeypatch, "nntp", CrashingNNTP):
        crashed = services.source_sync(source=source, batch_size=1)
    assert crashed.status == SyncRun.Status.FAILED and crashed.new == 2
    source.refresh_from_db()
    assert source.cursor == {"offset": 3}  # article 2's checkpoint came before the failure
    resumed = services.source_sync(source=source)
    assert (resumed.new, resumed.unchanged, resumed.rejected) == (1, 0, 1)
    assert news.commands.count("ARTICLE 2") == 1 and "OVER 3-4" in news.commands
    assert Message.objects.filter(source=source).count() == 3


def test_a_news_server_that_cannot_be_reached_fails_the_run_with_a_retryable_error(news: NNTPServer) -> None:
    port = news.port
    news.close()
    source = SourceFactory(kind="nntp", config={"host": "127.0.0.1", "port": port, "group": GROUP})
    run = services.source_sync(source=source)
    assert run.status == SyncRun.Status.FAILED and "connection failed: ConnectionRefusedError" in run.error


# ---------------------------------------------------------------- HyperKitty

LIST_PATH = "/archives/list/widgets-users@lists.example.org"


def mbox_gz(name: str, **replace: str) -> bytes:
    text = (FIXTURES / name).read_text()
    for old, new in replace.items():
        text = text.replace(old, new)
    return gzip.compress(text.encode())


def hyperkitty_server(replay: ReplayServer) -> None:
    gz = {"Content-Type": "application/gzip"}
    replay.add(
        LIST_PATH,
        Reply("<html><title>widgets-users - Mailing lists</title></html>", headers={"Content-Type": "text/html"}),
    )
    replay.add(f"{LIST_PATH}/export/2025-09.mbox.gz", Reply(mbox_gz("hyperkitty/export__2025-09.mbox"), headers=gz))
    replay.add(f"{LIST_PATH}/export/2025-10.mbox.gz", Reply(mbox_gz("hyperkitty/export__2025-10.mbox"), headers=gz))
    replay.fallback(f"{LIST_PATH}/export/", Reply(gzip.compress(b""), headers=gz))  # a month without mail


def test_hyperkitty_months_arrive_through_perceval_with_permalinks(replay: ReplayServer, settings: Any) -> None:
    hyperkitty_server(replay)
    url = f"{replay.base}{LIST_PATH}/"
    source = SourceFactory(kind="hyperkitty", config={"url": url, "start": "2025-09", "list": "widgets-users"})
    run = services.source_sync(source=source)
    assert (run.status, run.new, run.rejected) == ("succeeded", 3, 0), run.error
    months = [r for r in replay.log if "/export/" in r.path]
    assert months[0].path.endswith("/2025-09.mbox.gz") and months[0].query == {
        "start": ["2025-09-01"],
        "end": ["2025-10-01"],
    }

    question = Message.objects.get(source=source, external_id="CAFana0001@mail.example.org")
    assert question.url == (
        "https://lists.example.org/archives/list/widgets-users@lists.example.org/message/"
        "ZTWYCRTPYO6L2PI422YNPMLII7O32ZH4/"
    )  # its Archived-At header
    answer = Message.objects.get(source=source, external_id="87bo0002@example.com")
    # No Archived-At: the permalink is computed as HyperKitty does (its Message-ID-Hash header agrees).
    assert answer.url == f"{url}message/FUGME2VJST7L7SC46Q4PCNUD7Z5L3LU4/"
    assert (answer.parent_external_id, answer.thread_external_id) == ("CAFana0001@mail.example.org",) * 2
    assert (answer.author.realm, answer.author.external_id, answer.author.display_name) == (
        "email",
        "bo@example.com",
        "Bo Park",
    )
    assert answer.channel.name == "widgets-users" and answer.channel.url == url
    release = Message.objects.get(source=source, external_id="20251002070000.GA1@example.net")
    assert release.created_at.isoformat() == "2025-10-02T07:00:00+00:00"  # Date: Thu, 02 Oct 2025 09:00:00 +0200
    source.refresh_from_db()
    assert source.cursor == {"from_date:message": 1759276800.0}  # 2025-10-01: months are re-read whole
    assert not list((settings.DATA_DIR / "perceval" / str(source.pk)).iterdir())  # downloads removed after the run

    again = services.source_sync(source=source)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 1)
    assert not any(r.path.endswith("/2025-09.mbox.gz") for r in replay.log[len(months) + 1 :])

    replay.replace(
        f"{LIST_PATH}/export/2025-10.mbox.gz",
        Reply(
            mbox_gz(
                "hyperkitty/export__2025-10.mbox",
                **{"Please test the CSV export.": "Please test the CSV and PDF exports."},
            )
        ),
    )
    edited = services.source_sync(source=source)
    assert (edited.new, edited.updated) == (0, 1)
    release.refresh_from_db()
    assert release.version == 2 and "PDF" in release.body


def test_a_hyperkitty_month_that_fails_is_listed_and_the_next_run_reads_it(replay: ReplayServer) -> None:
    hyperkitty_server(replay)
    replay.replace(
        f"{LIST_PATH}/export/2025-10.mbox.gz", Reply("<h1>Server Error (500)</h1>", 500, {"Content-Type": "text/html"})
    )
    source = SourceFactory(kind="hyperkitty", config={"url": f"{replay.base}{LIST_PATH}", "start": "2025-09"})
    first = services.source_sync(source=source)
    assert first.status == SyncRun.Status.FAILED and first.new == 0
    error = SyncError.objects.get(run=first)
    assert error.record == f"{replay.base}{LIST_PATH}/export/2025-10.mbox.gz?start=2025-10-01&end=2025-11-01"
    assert error.reason.startswith("HTTP 500 Internal Server Error")
    replay.replace(f"{LIST_PATH}/export/2025-10.mbox.gz", Reply(mbox_gz("hyperkitty/export__2025-10.mbox")))
    assert services.source_sync(source=source).new == 3


# ---------------------------------------------------------------- groups.io (api_url: Perceval hard-codes groups.io)


def mbox_zip(**replace: str) -> bytes:
    text = (FIXTURES / "groupsio/downloadarchives__messages.mbox").read_text()
    for old, new in replace.items():
        text = text.replace(old, new)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("messages.mbox", text)
    return buffer.getvalue()


def groupsio_server(replay: ReplayServer) -> None:
    api = "/api/v1"
    replay.add(
        f"{api}/login",
        Reply(
            (FIXTURES / "groupsio/login.json").read_text(),
            headers={"Set-Cookie": "groupsio=defanged-session; Path=/; HttpOnly"},
        ),
    )
    replay.add(f"{api}/getsubs", Reply((FIXTURES / "groupsio/getsubs__page1.json").read_text()))
    replay.add(f"{api}/getsubs?page_token=1", Reply((FIXTURES / "groupsio/getsubs__page2.json").read_text()))
    replay.add(f"{api}/downloadarchives", Reply(mbox_zip(), headers={"Content-Type": "application/zip"}))


def groupsio_source(replay: ReplayServer) -> Any:
    return SourceFactory(
        kind="groupsio",
        secrets='{"email": "dana@example.com", "password": "pw"}',
        config={"group": "widgets", "api_url": f"{replay.base}/api/v1"},
    )


def test_a_groupsio_archive_arrives_through_perceval_at_the_configured_api_url(replay: ReplayServer) -> None:
    groupsio_server(replay)
    source = groupsio_source(replay)
    run = services.source_sync(source=source)
    assert (run.status, run.new, run.rejected) == ("succeeded", 2, 0), run.error
    login = replay.log[0]
    assert (login.method, login.path, login.query["email"]) == ("POST", "/api/v1/login", ["dana@example.com"])
    download = next(r for r in replay.log if r.path == "/api/v1/downloadarchives")
    assert download.query["group_id"] == ["91514"] and "start_time" in download.query  # found on the second page
    assert "groupsio=defanged-session" in download.headers.get("Cookie", "")  # the login session carried on

    first = Message.objects.get(source=source, external_id="abc1.1757352000@groups.io")
    assert first.url == "https://groups.io/g/widgets/message/101"  # from the footer groups.io appends
    assert first.channel.url == "https://groups.io/g/widgets"
    reply = Message.objects.get(source=source, external_id="abc2.1757358000@groups.io")
    assert (reply.parent_external_id, reply.author.external_id) == ("abc1.1757352000@groups.io", "bo@example.com")
    source.refresh_from_db()
    assert source.cursor == {"from_date:message": 1756684800.0}  # 2025-09-01

    again = services.source_sync(source=source)
    assert (again.new, again.unchanged) == (0, 2)
    assert [r.query["start_time"] for r in replay.log if r.path == "/api/v1/downloadarchives"][-1] == [
        "2025-09-01T00:00:00+00:00"
    ]

    replay.replace(
        "/api/v1/downloadarchives", Reply(mbox_zip(**{"our managers want PDFs": "our managers want PDF reports"}))
    )
    edited = services.source_sync(source=source)
    assert (edited.new, edited.updated) == (0, 1)


def test_a_groupsio_download_that_fails_names_the_request_without_the_password(replay: ReplayServer) -> None:
    groupsio_server(replay)
    replay.replace("/api/v1/downloadarchives", Reply('{"object": "error", "type": "internal_error"}', 500))
    source = groupsio_source(replay)
    run = services.source_sync(source=source)
    assert run.status == SyncRun.Status.FAILED
    error = SyncError.objects.get(run=run)
    assert error.record.startswith(f"{replay.base}/api/v1/downloadarchives?group_id=91514")
    assert "HTTP 500" in error.reason and "pw" not in error.record
    replay.replace("/api/v1/downloadarchives", Reply(mbox_zip()))
    assert services.source_sync(source=source).new == 2
    denied = json.loads((FIXTURES / "groupsio/getsubs__page2.json").read_text())
    denied["data"][0]["perms"]["download_archives"] = False
    replay.replace("/api/v1/getsubs?page_token=1", Reply(json.dumps(denied)))
    refused = services.source_sync(source=source)
    assert refused.status == SyncRun.Status.FAILED and "Download archive permission disabled" in refused.error


# ---------------------------------------------------------------- a live Pipermail archive (Perceval downloads, our parser reads)

R_DEVEL = DATA / "mailing-lists/pipermail/r-devel/2025-April.txt"
PIPERMAIL_INDEX = """<html><head><title>The R-devel Archives</title></head><body>
<h1>The R-devel Archives</h1><p>You can get more information about this list <a href="https://stat.ethz.ch/mailman/listinfo/r-devel">here</a>.
<table border=3><tr><td>Archive</td><td>View by:</td><td>Downloadable version</td></tr>
<tr><td>April 2025:</td><td><a href="2025-April/thread.html">[ Thread ]</a></td>
<td><a href="2025-April.txt.gz">[ Gzip'd Text 41 KB ]</a></td></tr>
<tr><td>March 2025:</td><td><a href="2025-March/thread.html">[ Thread ]</a></td>
<td><a href="2025-March.txt.gz">[ Gzip'd Text 88 KB ]</a></td></tr>
</table></body></html>"""


def test_a_live_pipermail_archive_is_downloaded_through_perceval_and_read_by_our_parser(replay: ReplayServer) -> None:
    from townsquare.sources.tests.helpers import read

    replay.add("/pipermail/r-devel/", Reply(PIPERMAIL_INDEX, headers={"Content-Type": "text/html"}))
    replay.add(
        "/pipermail/r-devel/2025-April.txt.gz",
        Reply(gzip.compress(R_DEVEL.read_bytes()), headers={"Content-Type": "application/x-gzip"}),
    )
    replay.add(
        "/pipermail/r-devel/2025-March.txt.gz",
        Reply("<h1>Internal Server Error</h1>", 500, {"Content-Type": "text/html"}),
    )
    url = f"{replay.base}/pipermail/r-devel/"
    source = SourceFactory(kind="pipermail", config={"url": url, "list": "r-devel"})
    assert services.source_check(source=source).startswith(f"live Pipermail archive at {url}")
    failed = services.source_sync(source=source)
    assert failed.status == SyncRun.Status.FAILED
    error = SyncError.objects.get(run=failed)
    assert (error.record, error.reason) == (
        f"{url}2025-March.txt.gz",
        "HTTP 500 Internal Server Error; the next run resumes here",
    )

    replay.replace(
        "/pipermail/r-devel/2025-March.txt.gz",
        Reply(gzip.compress(b""), headers={"Content-Type": "application/x-gzip"}),
    )
    run = services.source_sync(source=source)
    expected, _ = read("pipermail", R_DEVEL)  # the same file read as an uploaded archive
    assert len(expected) == 40
    assert (run.status, run.new) == ("succeeded", 40), run.error
    message = Message.objects.get(source=source, external_id=expected[0].external_id)
    assert message.url == f"{url}2025-April/thread.html" and message.channel.name == "r-devel"
    source.refresh_from_db()
    assert source.cursor == {"from_date:message": 1743465600.0}  # 2025-04-01: the newest month is read again next time
    downloads = len([r for r in replay.log if r.path.endswith(".txt.gz")])
    again = services.source_sync(source=source)
    assert (again.new, again.unchanged) == (0, 40)
    assert [r.path.rsplit("/", 1)[1] for r in replay.log if r.path.endswith(".txt.gz")][downloads:] == [
        "2025-April.txt.gz"
    ]
