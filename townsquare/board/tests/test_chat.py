"""One escaper per format, each tested with hostile input; and what really reaches the services."""

from __future__ import annotations

import html

import pytest
from apprise.plugins.slack import NotifySlack

from townsquare.board import chat, services
from townsquare.board.models import Column
from townsquare.notify.models import Notification
from townsquare.notify.services import destination_save, notifications_deliver_due

HOSTILE_TITLE = "<!channel> @here [click](https://evil.example) <script>alert(1)</script> **bold** & `rm -rf`"
HOSTILE_NAME = "@everyone <@U024BE7LH> _Mallory_"
HOSTILE_NOTE = "# Heading\n- list\n1. one\n> quote\n<https://evil.example>\n@channel ![img](https://evil.example/x.png)"


def message(**overrides: object) -> chat.DoneMessage:
    values = {
        "finisher": "Ana",
        "task_title": HOSTILE_TITLE,
        "link": "https://townsquare.example/board/tasks/7/",
        "note": HOSTILE_NOTE,
        "thanks": (chat.Thanks(name=HOSTILE_NAME, team="Support <b>", contribution="fixed *all* the [docs](x)"),),
    }
    values.update(overrides)
    return chat.DoneMessage(**values)  # type: ignore[arg-type]


def test_it_escapes_markdown_in_titles_names_and_notes() -> None:
    title, body = chat.render_done(message(), "markdown")
    for text in (title, body):
        assert "<" not in text.replace("\\<", "")  # no raw angle bracket: no autolink, HTML or Slack control
        assert "](" not in text.replace("\\](", "").replace("](https://townsquare.example/board/tasks/7/)", "")
        assert "**bold**" not in text
    assert "\\[click\\](https://evil.example)" in title
    assert "\\*\\*bold\\*\\*" in title
    assert "\\# Heading" in body and "\\- list" in body and "1\\. one" in body and "\\> quote" in body
    assert "\\!\\[img\\]" not in body and "!\\[img\\]" in body  # the escaped bracket is enough
    assert (
        "[" + chat.escape_markdown(chat.one_line(HOSTILE_TITLE)) + "](https://townsquare.example/board/tasks/7/)"
        in body
    )


def test_it_neutralises_mass_mentions_in_every_format() -> None:
    for fmt in ("markdown", "text", "html"):
        title, body = chat.render_done(message(), fmt)
        for text in (title, body):
            for mention in ("@here", "@channel", "@everyone"):
                assert mention not in text, (fmt, mention)
        assert "@\u2060here" in title
    assert chat.escape_text("mail ana@example.com") == "mail ana@example.com"  # not a mention


def test_it_escapes_html_for_email() -> None:
    title, body = chat.render_done(message(), "html")
    assert "<script>" not in body and "<b>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert 'href="https://townsquare.example/board/tasks/7/"' in body
    assert title.startswith("Ana finished “&lt;!channel&gt; @\u2060here")
    assert html.unescape(title).startswith("Ana finished “<!channel>")  # shown literally, never parsed


def test_plain_text_keeps_the_words_and_drops_control_characters() -> None:
    title, body = chat.render_done(message(task_title="Bell\x07 and \u202eevil"), "text")
    assert "\x07" not in title and "\u202e" not in title
    assert "[click]" not in body  # the link text is the URL in plain text
    assert "More here: https://townsquare.example/board/tasks/7/" in body


def test_slack_receives_escaped_mrkdwn() -> None:
    """Apprise turns our CommonMark into Slack mrkdwn: no control sequences survive."""
    _title, body = chat.render_done(message(), "markdown")
    slack = NotifySlack._commonmark_to_slack(body)
    assert "<!channel>" not in slack and "<@U024BE7LH>" not in slack and "<script>" not in slack
    assert "&lt;!channel&gt;" in slack and "&lt;script&gt;" in slack
    assert "<https://townsquare.example/board/tasks/7/|" in slack  # our own link stays a link
    assert "<https://evil.example" not in slack


@pytest.mark.django_db
def test_a_hostile_title_reaches_a_real_mattermost_endpoint_escaped(http_endpoint, devrel) -> None:
    destination_save(
        name="Mattermost",
        url=f"mmost://127.0.0.1:{http_endpoint.port}/hooktoken",
        purposes=["announcements"],
        enabled=True,
    )
    task = services.task_create(title=HOSTILE_TITLE, owner=devrel, by=devrel)
    services.collaborator_add(task=task, name=HOSTILE_NAME, contribution="<img src=x onerror=alert(1)>", by=devrel)
    services.task_move(task=task, column=Column.DONE, by=devrel)
    notifications_deliver_due()
    assert Notification.objects.get().status == Notification.Status.SENT
    [received] = http_endpoint.received
    text = received.json()["text"]
    assert "\\<!channel\\>" in text and "@\u2060here" in text and "@\u2060everyone" in text
    assert "<img" not in text.replace("\\<img", "")
    assert "\\[click\\](https://evil.example)" in text
