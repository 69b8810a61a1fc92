"""Facts about one message: whether it opens a thread, and the text the feedback pipeline reads."""

from __future__ import annotations

from townsquare.sources.models import Message


def test_a_message_that_replies_to_nothing_starts_its_thread() -> None:
    assert Message(external_id="t1", thread_external_id="", parent_external_id="").starts_thread is True
    assert Message(external_id="t1", thread_external_id="t1", parent_external_id="").starts_thread is True


def test_a_reply_or_a_message_inside_another_thread_does_not_start_one() -> None:
    assert Message(external_id="r1", thread_external_id="t1", parent_external_id="").starts_thread is False
    assert Message(external_id="r1", thread_external_id="r1", parent_external_id="t1").starts_thread is False
    assert Message.opens_thread(external_id="r1", thread_external_id="t1", parent_external_id="") is False


def test_the_text_joins_title_and_body_without_the_quoted_reply_or_the_signature() -> None:
    body = "It crashes on export.\n\nOn Monday, Bo wrote:\n> works for me\n"
    message = Message(title="Export broken", body=body)
    assert message.text() == "Export broken. It crashes on export."
    assert Message(title="Export broken", body="").text() == "Export broken"
