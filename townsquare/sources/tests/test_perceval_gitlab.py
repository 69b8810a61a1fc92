"""GitLab through Perceval's real client (Link-header paging, rate-limit headers) against recorded replies on 127.0.0.1."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from townsquare.people.models import Identity
from townsquare.sources import services
from townsquare.sources.models import Message, SyncError, SyncRun
from townsquare.sources.tests.factories import SourceFactory
from townsquare.sources.tests.helpers import FIXTURES
from townsquare.sources.tests.replay import ReplayServer, Reply

pytestmark = pytest.mark.django_db
GL = FIXTURES / "gitlab"
API = "/api/v4/projects/townsquare-demo%2Fwidgets"
BY_ID = "/api/v4/projects/278964"  # GitLab's Link headers name the project by id


def fixture(name: str) -> Any:
    return json.loads((GL / name).read_text())


def rate(remaining: int = 1990) -> dict[str, str]:
    return {
        "RateLimit-Limit": "2000",
        "RateLimit-Remaining": str(remaining),
        "RateLimit-Reset": str(int(time.time()) + 60),
    }


def pages(page: int, total: int, resource: str) -> dict[str, str]:
    def link(n: int) -> str:
        return f"{{base}}{BY_ID}/{resource}?id=278964&order_by=updated_at&page={n}&per_page=2&sort=asc&state=all"

    rels = [f'<{link(page + 1)}>; rel="next"'] if page < total else []
    rels += [f'<{link(1)}>; rel="first"', f'<{link(total)}>; rel="last"']
    return {
        **rate(),
        "Link": ", ".join(rels),
        "X-Page": str(page),
        "X-Per-Page": "2",
        "X-Total-Pages": str(total),
        "X-Next-Page": str(page + 1) if page < total else "",
        "X-Total": "3",
    }


def gitlab_server(replay: ReplayServer) -> None:
    replay.add(API, Reply(json.dumps(fixture("project.json")), headers=rate()))
    replay.add(f"{API}/issues", Reply(json.dumps(fixture("issues__page1.json")), headers=pages(1, 2, "issues")))
    replay.add(
        f"{BY_ID}/issues?page=2", Reply(json.dumps(fixture("issues__page2.json")), headers=pages(2, 2, "issues"))
    )
    for issue in fixture("issues__page1.json") + fixture("issues__page2.json"):
        iid = issue["iid"]
        notes = fixture(f"issue_notes__{iid}.json")
        replay.add(f"{API}/issues/{iid}/notes", Reply(json.dumps(notes), headers=rate()))
        replay.add(
            f"{API}/issues/{iid}/award_emoji",
            Reply(json.dumps(fixture("award_emoji__issue.json") if iid == 11 else []), headers=rate()),
        )
        for note in notes:
            replay.add(f"{API}/issues/{iid}/notes/{note['id']}/award_emoji", Reply("[]", headers=rate()))
    replay.add(f"{API}/merge_requests", Reply(json.dumps(fixture("merge_requests__simple.json")), headers=rate()))
    replay.add(f"{API}/merge_requests/7", Reply(json.dumps(fixture("merge_request__7.json")), headers=rate()))
    replay.add(
        f"{API}/merge_requests/7/notes", Reply(json.dumps(fixture("merge_request_notes__7.json")), headers=rate())
    )
    replay.add(f"{API}/merge_requests/7/award_emoji", Reply("[]", headers=rate()))
    for note in fixture("merge_request_notes__7.json"):
        # GitLab answers 404 for emoji on system notes; Perceval tolerates it.
        replay.add(
            f"{API}/merge_requests/7/notes/{note['id']}/award_emoji",
            Reply('{"message": "404 Not found"}', 404) if note["system"] else Reply("[]", headers=rate()),
        )
    replay.add(
        f"{API}/merge_requests/7/versions", Reply(json.dumps(fixture("merge_request_versions__7.json")), headers=rate())
    )
    replay.add(
        f"{API}/merge_requests/7/versions/88001",
        Reply(json.dumps(fixture("merge_request_version__88001.json")), headers=rate()),
    )


def gitlab_source(replay: ReplayServer, **config: Any) -> Any:
    return SourceFactory(
        kind="gitlab",
        secrets='{"token": "glpat-test"}',
        config={
            "owner": "townsquare-demo",
            "repository": "widgets",
            "base_url": replay.base,
            "categories": ["issue", "merge_request"],
            "sleep_time": 0.01,
            "max_retries": 1,
            **config,
        },
    )


def test_gitlab_issues_merge_requests_and_notes_arrive_once_across_link_pages(replay: ReplayServer) -> None:
    gitlab_server(replay)
    source = gitlab_source(replay)
    run = services.source_sync(source=source)
    # 3 issues + 4 human notes (one system note skipped) + 1 merge request + 1 human note
    assert (run.status, run.new, run.rejected) == ("succeeded", 9, 0), run.error
    assert f"{BY_ID}/issues" in replay.paths()  # page 2 came from the Link header
    headers = next(r.headers for r in replay.log if r.path == f"{API}/issues")
    assert headers["PRIVATE-TOKEN"] == "glpat-test"

    issue = Message.objects.get(source=source, external_id="issue:130001")
    assert (issue.kind, issue.title, issue.url) == (
        "issue",
        "#11 Dark mode for the dashboard",
        "https://gitlab.example.com/townsquare-demo/widgets/-/issues/11",
    )
    assert issue.created_at.isoformat() == "2025-09-01T08:15:02.114000+00:00"
    assert issue.updated_at.isoformat() == "2025-09-03T10:00:00+00:00"
    assert "<strong>very</strong>" in issue.body_html
    assert issue.author.realm == "gitlab:127.0.0.1" and issue.author.handle == "ana.lima"
    assert issue.author.display_name == "Ana Lima"
    assert issue.channel.url == f"{replay.base}/townsquare-demo/widgets"
    notes = Message.objects.filter(source=source, thread_external_id="issue:130001", kind="comment").order_by(
        "created_at"
    )
    assert [n.external_id for n in notes] == ["note:990001", "note:990003"]
    assert notes[0].parent_external_id == "issue:130001" and notes[0].url.endswith("/-/issues/11#note_990001")
    assert Identity.objects.get(realm="gitlab:127.0.0.1", external_id="1402").handle == "bopark"

    merge = Message.objects.get(source=source, external_id="mr:440001")
    assert (merge.kind, merge.title) == ("pull_request", "!7 Follow the OS colour scheme")
    assert merge.author.handle == "cyril"
    assert Message.objects.filter(source=source, thread_external_id="mr:440001", kind="comment").count() == 1

    again = services.source_sync(source=source)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 9)
    assert Message.objects.filter(source=source).count() == 9
    since = [r.query["updated_after"][0] for r in replay.log if r.path == f"{API}/issues"]
    assert since[-1].startswith("2025-09-05T11:20:00")  # the second run asked only for what changed since its cursor

    notes = fixture("issue_notes__11.json")
    notes[2] = {
        **notes[2],
        "body": "We could read `prefers-color-scheme` (edited).",
        "updated_at": "2025-09-06T08:00:00.000Z",
    }
    replay.replace(f"{API}/issues/11/notes", Reply(json.dumps(notes), headers=rate()))
    edited = services.source_sync(source=source)
    assert (edited.new, edited.updated) == (0, 1)
    note = Message.objects.get(source=source, external_id="note:990003")
    assert note.version == 2 and "(edited)" in note.body and note.updated_at.isoformat() == "2025-09-06T08:00:00+00:00"


def test_a_500_on_a_gitlab_page_is_listed_keeps_the_first_page_and_the_next_run_resumes(replay: ReplayServer) -> None:
    gitlab_server(replay)
    replay.replace(f"{BY_ID}/issues?page=2", Reply('{"message": "500 Internal Server Error"}', 500))
    source = gitlab_source(replay, categories=["issue"])
    first = services.source_sync(source=source)
    assert first.status == SyncRun.Status.FAILED and "HTTP 500" in first.error
    assert first.new == 2 + 3  # issues 11 and 12 with their human notes
    error = SyncError.objects.get(run=first)
    assert error.record.startswith(f"{replay.base}{BY_ID}/issues?") and "page=2" in error.record
    assert "HTTP 500" in error.reason and "next run resumes" in error.reason
    assert first.rejected == 0  # a failed page is listed, not counted as a rejected record
    source.refresh_from_db()
    assert source.cursor["from_date:issue"] == pytest.approx(1756977000.0)  # issue 12's updated_at

    replay.replace(
        f"{BY_ID}/issues?page=2", Reply(json.dumps(fixture("issues__page2.json")), headers=pages(2, 2, "issues"))
    )
    second = services.source_sync(source=source)
    assert second.status == SyncRun.Status.SUCCEEDED
    assert second.new == 2  # issue 13 and its note
    assert Message.objects.filter(source=source).count() == 7
    since = [r.query["updated_after"][0] for r in replay.log if r.path == f"{API}/issues"]
    assert since == ["1970-01-01T00:00:00+00:00", "2025-09-04T09:30:00+00:00"]


def test_a_malformed_gitlab_notes_page_names_the_page_and_keeps_what_came_before(replay: ReplayServer) -> None:
    gitlab_server(replay)
    replay.replace(f"{API}/issues/12/notes", Reply('[{"id": 990004, "body": "Repro', headers=rate()))
    source = gitlab_source(replay, categories=["issue"])
    run = services.source_sync(source=source)
    assert run.status == SyncRun.Status.FAILED and "malformed response" in run.error
    assert run.new == 3  # issue 11 and its two human notes
    error = SyncError.objects.get(run=run)
    assert error.record == f"{replay.base}{API}/issues/12/notes?order_by=updated_at&sort=asc&per_page=100"
    assert "not JSON" in error.reason


def test_a_low_gitlab_rate_limit_stops_the_run_before_spending_more_calls(replay: ReplayServer) -> None:
    gitlab_server(replay)
    replay.replace(
        f"{API}/issues", Reply(json.dumps(fixture("issues__page1.json")), headers={**pages(1, 2, "issues"), **rate(3)})
    )
    source = gitlab_source(replay, categories=["issue"])
    run = services.source_sync(source=source)
    assert run.status == SyncRun.Status.FAILED and "Rate limit exhausted" in run.error
    assert f"{API}/issues/11/notes" not in replay.paths()
    assert Message.objects.filter(source=source).count() == 0
    replay.replace(f"{API}/issues", Reply(json.dumps(fixture("issues__page1.json")), headers=pages(1, 2, "issues")))
    assert services.source_sync(source=source).new == 7
