"""Stack Exchange through Perceval's real client (has_more paging, backoff, quota) at a configured api_url."""

from __future__ import annotations

import json
from typing import Any

import pytest

from townsquare.sources import services
from townsquare.sources.models import Message, SyncError, SyncRun
from townsquare.sources.tests.factories import SourceFactory
from townsquare.sources.tests.helpers import FIXTURES
from townsquare.sources.tests.replay import ReplayServer, Reply

pytestmark = pytest.mark.django_db
QUESTIONS = "/2.2/questions"


def page(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / "stackexchange" / f"{name}.json").read_text())


def stackexchange_server(replay: ReplayServer, first: dict[str, Any] | None = None) -> None:
    replay.add(f"{QUESTIONS}?page=1", Reply(json.dumps(first or page("questions__page1"))))
    replay.add(f"{QUESTIONS}?page=2", Reply(json.dumps(page("questions__page2"))))


def stackexchange_source(replay: ReplayServer) -> Any:
    return SourceFactory(
        kind="stackexchange",
        secrets='{"token": "se-app-key"}',
        config={"site": "stackoverflow", "tagged": "widgets", "api_url": replay.base, "max_questions": 2},
    )


def test_questions_answers_and_comments_arrive_through_perceval_paging_with_backoff(replay: ReplayServer) -> None:
    stackexchange_server(replay)
    source = stackexchange_source(replay)
    run = services.source_sync(source=source)
    assert (run.status, run.new, run.rejected) == ("succeeded", 6, 0), run.error  # 3 questions, 1 answer, 2 comments
    first, second = (r for r in replay.log if r.path == QUESTIONS)
    assert second.at - first.at >= 0.9  # Perceval waited the backoff the API asked for
    assert first.query["site"] == ["stackoverflow"] and first.query["tagged"] == ["widgets"]
    assert first.query["key"] == ["se-app-key"] and first.query["sort"] == ["activity"]

    question = Message.objects.get(source=source, external_id="post:79011201")
    assert question.kind == "question" and question.title == "How do I refresh a widget every minute?"
    assert question.url.startswith("https://stackoverflow.com/questions/79011201/")
    assert question.body == 'I tried setInterval but the widget "flickers".'
    assert (question.author.realm, question.author.external_id, question.author.handle) == (
        "stackexchange:stackoverflow",
        "3390112",
        "bopark",
    )
    answer = Message.objects.get(source=source, external_id="post:79011288")
    assert (answer.kind, answer.parent_external_id, answer.thread_external_id) == (
        "answer",
        "post:79011201",
        "post:79011201",
    )
    assert answer.url == "https://stackoverflow.com/a/79011288"
    thanks = Message.objects.get(source=source, external_id="comment:139400001")
    assert (thanks.kind, thanks.parent_external_id, thanks.thread_external_id) == (
        "comment",
        "post:79011288",
        "post:79011201",
    )
    edited = Message.objects.get(source=source, external_id="post:79011350")
    assert edited.title == 'CSV export fails with "UnicodeEncodeError"'
    assert edited.updated_at.isoformat() == "2025-09-08T14:33:20+00:00"
    source.refresh_from_db()
    assert source.cursor == {"from_date:question": 1757344000.0}

    again = services.source_sync(source=source)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 6)
    assert [r.query["min"] for r in replay.log if r.path == QUESTIONS][-1] == ["1757344000"]  # only what changed since

    changed = page("questions__page1")
    changed["items"][0]["answers"][0]["body"] = "<p>Set <code>refresh: 60</code> in the widget's settings.</p>"
    replay.replace(f"{QUESTIONS}?page=1", Reply(json.dumps({**changed, "backoff": None})))
    third = services.source_sync(source=source)
    assert (third.new, third.updated) == (0, 1)
    answer.refresh_from_db()
    assert answer.version == 2 and "widget's" in answer.body


def test_an_exhausted_quota_stops_before_the_next_page_and_the_next_run_resumes(replay: ReplayServer) -> None:
    stackexchange_server(replay, first={**page("questions__page1"), "quota_remaining": 0, "backoff": None})
    source = stackexchange_source(replay)
    first = services.source_sync(source=source)
    assert first.status == SyncRun.Status.FAILED and "quota exhausted" in first.error
    assert first.new == 5 and [r.query["page"] for r in replay.log] == [["1"]]  # page 2 was never asked for
    assert SyncError.objects.get(run=first).record == source.name

    replay.replace(f"{QUESTIONS}?page=1", Reply(json.dumps({**page("questions__page2"), "page": 1})))
    second = services.source_sync(source=source)
    assert (second.status, second.new) == ("succeeded", 1)
    assert replay.log[-1].query["min"] == ["1757342000"]  # resumed after the last question it stored


def test_a_throttled_request_is_listed_with_the_apis_reason_and_no_key(replay: ReplayServer) -> None:
    replay.add(f"{QUESTIONS}?page=1", Reply((FIXTURES / "stackexchange/throttle_violation.json").read_text(), 400))
    source = stackexchange_source(replay)
    run = services.source_sync(source=source)
    assert run.status == SyncRun.Status.FAILED
    error = SyncError.objects.get(run=run)
    assert error.reason.startswith("HTTP 400 Bad Request: too many requests from this IP")
    assert error.record.startswith(f"{replay.base}{QUESTIONS}?") and "site=stackoverflow" in error.record
    assert "se-app-key" not in error.record and "se-app-key" not in run.error
