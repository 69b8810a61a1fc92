"""Network connectors through the real Perceval code path, against recorded responses replayed on 127.0.0.1."""

from __future__ import annotations

import gzip
import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from townsquare.people.models import Identity
from townsquare.sources import services
from townsquare.sources.models import Message, Source, SyncError, SyncRun
from townsquare.sources.tests.factories import SourceFactory
from townsquare.sources.tests.helpers import DATA
from townsquare.sources.tests.replay import ReplayServer, Reply

pytestmark = pytest.mark.django_db
GH = DATA / "github/bitcoin-core-gui-metadata-backup/issues"
RATE_OK = {"X-RateLimit-Remaining": "4999", "X-RateLimit-Reset": str(int(time.time()) + 3600)}


def recorded_issue(number: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A real issue and its comments from the github-metadata-backup sample, as the REST API returns them."""
    data = json.loads(gzip.decompress((GH / f"{number}.json.gz").read_bytes()))
    issue = {**data["issue"], "reactions": {"total_count": 0}, "assignee": None, "assignees": []}
    comments = [{**e, "reactions": {"total_count": 0}} for e in data["events"] if e.get("event") == "commented"]
    return issue, comments


def github_server(replay: ReplayServer, *, page2: list[Reply]) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    issues = [recorded_issue(n) for n in (2, 1, 5)]  # ascending updated_at, as sort=updated&direction=asc returns
    api = "/api/v3"
    replay.add(f"{api}/rate_limit", Reply("{}", headers=RATE_OK))
    replay.add(
        f"{api}/repos/bitcoin-core/gui/issues",
        Reply(
            json.dumps([issues[0][0], issues[1][0]]),
            headers={**RATE_OK, "Link": '<{base}/api/v3/repos/bitcoin-core/gui/issues/page2>; rel="next"'},
        ),
    )
    replay.add(f"{api}/repos/bitcoin-core/gui/issues/page2", *page2)
    for issue, comments in issues:
        replay.add(
            f"{api}/repos/bitcoin-core/gui/issues/{issue['number']}/comments",
            Reply(json.dumps(comments), headers=RATE_OK),
        )
        for user in [issue["user"], *[c["user"] for c in comments]]:
            replay.add(
                f"{api}/users/{user['login']}",
                Reply(
                    json.dumps({**user, "name": user["login"].title(), "email": f"{user['login']}@example.org"}),
                    headers=RATE_OK,
                ),
            )
            replay.add(f"{api}/users/{user['login']}/orgs", Reply("[]", headers=RATE_OK))
    return issues


def github_source(replay: ReplayServer, **config: Any) -> Any:
    return SourceFactory(
        kind="github",
        secrets='{"token": "test-token"}',
        config={
            "owner": "bitcoin-core",
            "repository": "gui",
            "base_url": replay.base,
            "sleep_time": 0.01,
            "max_retries": 3,
            **config,
        },
    )


def test_github_issues_and_comments_arrive_through_perceval_across_pages_and_a_500(replay: ReplayServer) -> None:
    issues = github_server(replay, page2=[Reply('{"message": "boom"}', 500), Reply("[]", 200)])
    replay.replace(
        "/api/v3/repos/bitcoin-core/gui/issues/page2",
        Reply('{"message": "boom"}', 500),
        Reply(json.dumps([issues[2][0]]), headers=RATE_OK),
    )
    source = github_source(replay)
    run = services.source_sync(source=source)
    expected = sum(1 + len(c) for _, c in issues)
    assert (run.status, run.new, run.rejected) == ("succeeded", expected, 0), run.error
    assert replay.paths().count("/api/v3/repos/bitcoin-core/gui/issues/page2") == 2  # the 500 was retried
    issue = Message.objects.get(source=source, external_id=f"issue:{issues[0][0]['id']}")
    assert issue.url == issues[0][0]["html_url"] and issue.kind == "issue"
    assert Message.objects.filter(source=source, kind="comment", thread_external_id=issue.external_id).count() == len(
        issues[0][1]
    )
    # The same GitHub account is one identity whether it came from the API or from the archive connector.
    author = Identity.objects.get(realm="github", external_id=str(issues[0][0]["user"]["id"]))
    assert author.handle == issues[0][0]["user"]["login"] and author.email.endswith("@example.org")
    source.refresh_from_db()
    assert source.cursor["from_date:issue"] > 0
    headers = next(h for p, _, h in replay.requests if p.endswith("/issues"))
    assert headers["Authorization"] == "token test-token"


def test_a_malformed_github_page_fails_the_run_keeps_the_good_records_and_the_next_run_resumes(
    replay: ReplayServer,
) -> None:
    issues = github_server(replay, page2=[Reply('[{"id": 1, "title": "trunc', 200, RATE_OK)])
    source = github_source(replay)
    first = services.source_sync(source=source)
    assert first.status == SyncRun.Status.FAILED
    assert "malformed response" in first.error
    assert first.new == sum(1 + len(c) for _, c in issues[:2])
    replay.replace("/api/v3/repos/bitcoin-core/gui/issues/page2", Reply(json.dumps([issues[2][0]]), headers=RATE_OK))
    second = services.source_sync(source=source)
    assert second.status == SyncRun.Status.SUCCEEDED
    assert second.new == 1 + len(issues[2][1])
    assert Message.objects.filter(source=source).count() == sum(1 + len(c) for _, c in issues)
    since = [q.get("since") for p, q, _ in replay.requests if p.endswith("/issues")]
    assert since[0] == ["1980-01-01T00:00:00+00:00"]  # Perceval's default: everything
    assert since[-1][0] > "2022"  # the second run asked only for what changed since its cursor


def test_an_exhausted_github_rate_limit_stops_the_run_with_a_retryable_error(replay: ReplayServer) -> None:
    issues = github_server(replay, page2=[Reply("[]", 200, RATE_OK)])
    replay.replace(
        "/api/v3/rate_limit",
        Reply("{}", headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 3600)}),
    )
    source = github_source(replay)
    run = services.source_sync(source=source)
    assert run.status == SyncRun.Status.FAILED and "Rate limit exhausted" in run.error
    assert not any(p.endswith("/issues") for p in replay.paths())  # Perceval stopped before spending more calls
    replay.replace("/api/v3/rate_limit", Reply("{}", headers=RATE_OK))
    again = services.source_sync(source=source)
    assert again.status == SyncRun.Status.SUCCEEDED and again.new == sum(1 + len(c) for _, c in issues[:2])


def discourse_topics() -> list[dict[str, Any]]:
    folder = DATA / "discourse/urho3d/t"
    names = [
        "23-water-terrain-size.6917.json.gz",
        "3d-particle-emitter-liquid-effects.7324.json.gz",
        "a-plan-to-support-static-batching.7073.json.gz",
    ]
    return [json.loads(gzip.decompress((folder / name).read_bytes())) for name in names]


def discourse_server(replay: ReplayServer, topics: list[dict[str, Any]]) -> None:
    latest = {
        "users": [],
        "topic_list": {
            "per_page": 30,
            "topics": [
                {
                    "id": t["id"],
                    "title": t["title"],
                    "slug": t["slug"],
                    "last_posted_at": t["last_posted_at"],
                    "pinned": False,
                    "posts_count": t["posts_count"],
                }
                for t in sorted(topics, key=lambda t: t["last_posted_at"], reverse=True)
            ],
        },
    }
    replay.add("/latest.json?page=0", Reply(json.dumps(latest)))
    replay.add("/latest.json?page=1", Reply(json.dumps({"users": [], "topic_list": {"topics": []}})))
    for topic in topics:
        replay.add(f"/t/{topic['id']}.json", Reply(json.dumps(topic)))


def test_discourse_topics_arrive_through_perceval_and_a_500_mid_run_resumes_later(replay: ReplayServer) -> None:
    topics = sorted(discourse_topics(), key=lambda t: t["last_posted_at"])
    discourse_server(replay, topics)
    replay.replace(f"/t/{topics[1]['id']}.json", Reply('{"errors": ["boom"]}', 500))
    source = SourceFactory(kind="discourse", config={"url": replay.base, "sleep_time": 0.01, "max_retries": 1})
    first = services.source_sync(source=source)
    assert first.status == SyncRun.Status.FAILED and "HTTP 500" in first.error
    assert first.new == len(topics[0]["post_stream"]["posts"])
    replay.replace(f"/t/{topics[1]['id']}.json", Reply(json.dumps(topics[1])))
    second = services.source_sync(source=source)
    assert second.status == SyncRun.Status.SUCCEEDED
    assert Message.objects.filter(source=source).count() == sum(len(t["post_stream"]["posts"]) for t in topics)
    assert second.unchanged == len(
        topics[0]["post_stream"]["posts"]
    )  # the checkpointed topic is re-read, not duplicated
    post = Message.objects.filter(source=source, kind="post").first()
    assert post.url.startswith(f"{replay.base}/t/") and post.body_html
    third = services.source_sync(source=source)
    assert third.new == 0


def test_the_connection_test_runs_the_backend_configuration(replay: ReplayServer) -> None:
    source = SourceFactory(kind="discourse", config={})
    with pytest.raises(Exception, match="missing setting"):
        services.source_check(source=source)
    source.config = {"url": replay.base}
    assert "Discourse" in services.source_check(source=source)


def test_an_rss_feed_is_read_through_perceval(replay: ReplayServer) -> None:
    replay.add(
        "/feed",
        Reply(
            (DATA / "rss/blog.couchbase.com-2016-12.rss.xml").read_bytes(),
            headers={"Content-Type": "application/rss+xml"},
        ),
    )
    source = SourceFactory(kind="rss", config={"url": f"{replay.base}/feed"})
    run = services.source_sync(source=source)
    assert (run.status, run.new) == ("succeeded", 30)
    assert Identity.objects.filter(realm="rss:127.0.0.1").count() == 11
    article = Message.objects.filter(source=source).first()
    assert article.kind == "article" and article.url.startswith("http://blog.couchbase.com/") and article.title
    assert services.source_sync(source=source).unchanged == 30


def test_a_saved_feed_file_is_imported_like_the_live_feed(tmp_path: Path) -> None:
    saved = DATA / "rss/blog.couchbase.com-2016-12.rss.xml"
    out = io.StringIO()
    call_command("import", "rss", str(saved), "--name", "Couchbase blog", stdout=out)
    source = Source.objects.get(name="Couchbase blog")
    assert Message.objects.filter(source=source, kind="article").count() == 30
    # No url given: the channel and the identities take the feed's own link.
    assert Identity.objects.filter(realm="rss:blog.couchbase.com").count() == 11
    assert services.archive_import(source=source, path=saved).unchanged == 30
    broken = tmp_path / "feed.xml"
    broken.write_text("<html><body>not a feed</body>")
    run = services.archive_import(source=source, path=broken)
    assert run.rejected == 1 and SyncError.objects.get(run=run).record == "feed.xml"
