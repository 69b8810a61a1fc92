"""A small community whose figures are worked out by hand in the tests (times are UTC).

Forum: alice asks T1 (2024-01-10 10:00); a bot greets at 10:05, alice adds a note at 10:30, carol (staff)
answers at 12:00 and bob at 14:00. bob asks T2 (2024-01-20 00:00), alice answers two days later. alice
asks T3 (2024-02-05), nobody answers. bob wrote once before, in 2023-06. A post without an author
(2024-03-01) gets no answer.
Slack: alice chats on 2024-01-15 (no thread) and 2024-04-20; dave (Acme, a paying customer) opens a
thread on 2024-02-01 09:00 that carol answers at 10:00.
Empty: a source with no messages. erin: a member with no identity.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from townsquare.people.models import Account, Member
from townsquare.people.tests.factories import AccountFactory, IdentityFactory, MemberFactory
from townsquare.sources.models import Message, Source
from townsquare.sources.tests.factories import MessageFactory, SourceFactory
from townsquare.sources.tests.replay import ReplayServer

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "downloads"


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def fixture_json(name: str) -> Any:
    return json.loads(fixture_text(name))


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def registry(settings: Any) -> Iterator[ReplayServer]:
    """One local server standing in for all four registries (their paths do not overlap)."""
    server = ReplayServer()
    for name in ("PYPI", "NPM", "DOCKER", "GITHUB"):
        setattr(settings, f"DOWNLOADS_{name}_URL", server.base)
    settings.DOWNLOADS_TIMEOUT_SECONDS = 5
    settings.DOWNLOADS_MAX_RETRY_WAIT_SECONDS = 2
    settings.DOWNLOADS_GITHUB_TOKEN = ""
    yield server
    server.close()


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@dataclass
class Community:
    forum: Source
    slack: Source
    empty: Source
    alice: Member
    bob: Member
    carol: Member
    dave: Member
    erin: Member
    acme: Account
    t3: Message
    anonymous: Message


@pytest.fixture
def community(db: None) -> Community:
    forum = SourceFactory(name="Forum", kind=Source.Kind.DISCOURSE)
    slack = SourceFactory(name="Slack", kind=Source.Kind.SLACK_EXPORT)
    empty = SourceFactory(name="Empty list", kind=Source.Kind.MBOX)
    acme = AccountFactory(name="Acme", annual_revenue=250_000)
    alice, bob = MemberFactory(display_name="Alice"), MemberFactory(display_name="Bob")
    carol = MemberFactory(display_name="Carol", is_staff=True)
    dave = MemberFactory(display_name="Dave", organization=acme.organization)
    erin = MemberFactory(display_name="Erin")
    bot = MemberFactory(display_name="Greeter", is_bot=True)
    ids: dict[str, Any] = {
        "a_f": IdentityFactory(member=alice, realm="forum"),
        "a_s": IdentityFactory(member=alice, realm="slack"),
        "b_f": IdentityFactory(member=bob, realm="forum"),
        "c_f": IdentityFactory(member=carol, realm="forum"),
        "c_s": IdentityFactory(member=carol, realm="slack"),
        "d_s": IdentityFactory(member=dave, realm="slack"),
        "bot": IdentityFactory(member=bot, realm="forum", is_bot=True),
    }

    def msg(source: Source, who: str | None, when: str, ext: str, **kw: Any) -> Message:
        return MessageFactory(
            source=source,
            channel=None,
            author=ids[who] if who else None,
            created_at=at(when),
            external_id=ext,
            title=kw.pop("title", ""),
            **kw,
        )

    q, c, chat = Message.Kind.QUESTION, Message.Kind.COMMENT, Message.Kind.CHAT
    msg(forum, "b_f", "2023-06-03 08:00", "old", kind=Message.Kind.POST, thread_external_id="old")
    msg(forum, "a_f", "2024-01-10 10:00", "t1", kind=q, thread_external_id="t1", title="How do I deploy?")
    msg(forum, "bot", "2024-01-10 10:05", "t1-bot", kind=c, thread_external_id="t1", parent_external_id="t1")
    msg(forum, "a_f", "2024-01-10 10:30", "t1-self", kind=c, thread_external_id="t1", parent_external_id="t1")
    msg(forum, "c_f", "2024-01-10 12:00", "t1-carol", kind=c, thread_external_id="t1", parent_external_id="t1")
    msg(forum, "b_f", "2024-01-10 14:00", "t1-bob", kind=c, thread_external_id="t1", parent_external_id="t1")
    msg(forum, "b_f", "2024-01-20 00:00", "t2", kind=q, thread_external_id="t2", title="Which version?")
    msg(forum, "a_f", "2024-01-22 00:00", "t2-alice", kind=c, thread_external_id="t2", parent_external_id="t2")
    t3 = msg(forum, "a_f", "2024-02-05 09:00", "t3", kind=q, thread_external_id="t3", title="<b>Nobody?</b>")
    anonymous = msg(forum, None, "2024-03-01 12:00", "anon", kind=Message.Kind.POST, thread_external_id="anon")
    msg(slack, "a_s", "2024-01-15 09:00", "s0", kind=chat)
    msg(slack, "d_s", "2024-02-01 09:00", "s1", kind=chat, thread_external_id="s1")
    msg(slack, "c_s", "2024-02-01 10:00", "s1-carol", kind=chat, thread_external_id="s1", parent_external_id="s1")
    msg(slack, "a_s", "2024-04-20 09:00", "s2", kind=chat)
    return Community(forum, slack, empty, alice, bob, carol, dave, erin, acme, t3, anonymous)
