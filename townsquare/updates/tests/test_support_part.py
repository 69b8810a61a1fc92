"""The support audience's part: community questions answered in the period, worth reusing, and rising themes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.test import Client

from townsquare.core.roles import Role
from townsquare.core.weeks import company_tz
from townsquare.feedback import vectors
from townsquare.feedback.answered import answered_questions
from townsquare.feedback.models import Embedding, Theme, ThemeMessage
from townsquare.feedback.vectors import get_index
from townsquare.people.models import Team
from townsquare.people.tests.factories import MemberFactory
from townsquare.sources import services as source_services
from townsquare.sources.models import Message, Source
from townsquare.sources.tests.factories import IdentityFactory, MessageFactory, SourceFactory
from townsquare.sources.tests.helpers import DATA
from townsquare.updates.models import Part
from townsquare.updates.selectors.digests import period_bounds
from townsquare.updates.services import digests as services
from townsquare.updates.tests.factories import AudienceFactory

pytestmark = pytest.mark.django_db

END = dt.date(2026, 12, 7)  # the period is 30 Nov – 6 Dec
HOSTILE = "<script>alert(1)</script> **bold** [click](http://evil.example) @channel &amp;"


def _at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=company_tz())


def _person(name: str, *, staff: bool = False) -> Any:
    return IdentityFactory(display_name=name, member=MemberFactory(display_name=name, is_staff=staff))


def _thread(source: Source, key: str, title: str, asker: Any, when: dt.datetime, **kwargs: Any) -> Message:
    return MessageFactory(
        source=source,
        external_id=key,
        thread_external_id=key,
        kind=kwargs.pop("kind", Message.Kind.POST),
        title=title,
        author=asker,
        created_at=when,
        url=kwargs.pop("url", f"https://forum.example.com/t/{key}"),
        **kwargs,
    )


def _reply(source: Source, thread: Message, author: Any, when: dt.datetime, body: str, **kwargs: Any) -> Message:
    return MessageFactory(
        source=source,
        thread_external_id=thread.external_id,
        parent_external_id=thread.external_id,
        kind=kwargs.pop("kind", Message.Kind.REPLY),
        author=author,
        created_at=when,
        body=body,
        **kwargs,
    )


@pytest.fixture(autouse=True)
def fresh_vector_index(settings: Any, tmp_path: Path) -> Iterator[None]:
    """Each test gets its own vector index file (database rows roll back; the file would not)."""
    settings.FEEDBACK_VECTOR_PATH = str(tmp_path / "vectors.usearch")
    vectors.forget_indexes()
    yield
    vectors.forget_indexes()


@pytest.fixture
def forum() -> dict[str, Any]:
    """Threads answered four ways in the period, one answered before it, one never answered."""
    github = SourceFactory(name="GitHub Discussions", kind=Source.Kind.GITHUB_DISCUSSIONS)
    forum = SourceFactory(name="Forum", kind=Source.Kind.DISCOURSE_ARCHIVE)
    asker, other, helper = _person("Asker"), _person("Other asker"), _person("Helpful Hana")
    staff = _person("Sam from Support", staff=True)
    day = END - dt.timedelta(days=3)
    accepted = _thread(github, "d1", "Webhook retries", asker, _at(day, 9), kind=Message.Kind.QUESTION)
    _reply(github, accepted, helper, _at(day, 10), "Use the retry header.", kind=Message.Kind.ANSWER)
    _reply(github, accepted, other, _at(day, 11), "Same problem here")
    by_staff = _thread(forum, "t2", "How do I rotate API keys?", asker, _at(day, 9))
    _reply(forum, by_staff, staff, _at(day, 12), "Settings, then Keys, then Rotate.")
    thanked = _thread(forum, "t3", "Build fails on ARM", other, _at(day, 8))
    _reply(forum, thanked, helper, _at(day, 9), "Pin the compiler to 12.")
    _reply(forum, thanked, other, _at(day, 13), "Thanks, that worked!")
    unanswered = _thread(forum, "t4", "Is there a Go SDK?", asker, _at(day, 9))
    _reply(forum, unanswered, other, _at(day, 10), "I would like one too")
    old = _thread(forum, "t5", "Old question?", asker, _at(END - dt.timedelta(days=30)))
    _reply(forum, old, staff, _at(END - dt.timedelta(days=29)), "Answered long ago.")
    chat = _thread(forum, "t6", "Announcement", staff, _at(day, 9))
    _reply(forum, chat, helper, _at(day, 10), "thanks for sharing")  # not a question, nobody asked
    return {"accepted": accepted, "by_staff": by_staff, "thanked": thanked, "forum": forum, "asker": asker}


def test_it_finds_questions_answered_in_the_period_and_how(forum: dict[str, Any]) -> None:
    low, high = period_bounds(END - dt.timedelta(days=7), END)

    found = {q.title: q for q in answered_questions(low=low, high=high, limit=10)}

    assert set(found) == {"Webhook retries", "How do I rotate API keys?", "Build fails on ARM"}
    assert (found["Webhook retries"].how, found["Webhook retries"].answered_by) == ("accepted", "Helpful Hana")
    assert found["Webhook retries"].how_label == "Accepted answer"
    assert (found["How do I rotate API keys?"].how, found["How do I rotate API keys?"].answered_by) == (
        "staff",
        "Sam from Support",
    )
    # The asker thanked Hana: her reply is the answer, not the thanks.
    assert (found["Build fails on ARM"].how, found["Build fails on ARM"].answered_by) == ("thanked", "Helpful Hana")
    assert found["Webhook retries"].people == 3 and found["Webhook retries"].url == "https://forum.example.com/t/d1"


def test_questions_asked_again_rank_first_through_the_feedback_vectors(forum: dict[str, Any]) -> None:
    """Two other threads ask what "How do I rotate API keys?" asked: it comes first though fewer people took part."""
    rotate = forum["by_staff"]
    again = [
        _thread(forum["forum"], f"again{n}", f"Key rotation {n}", _person(f"P{n}"), _at(END - dt.timedelta(days=90)))
        for n in range(2)
    ]
    unrelated = _thread(forum["forum"], "far", "Pricing", _person("Q"), _at(END - dt.timedelta(days=90)))
    rng = np.random.default_rng(7)
    base = rng.normal(size=384)
    vectors = {rotate.pk: base, again[0].pk: base + 0.05, again[1].pk: base - 0.05, unrelated.pk: rng.normal(size=384)}
    rows = []
    for message_id, vector in vectors.items():
        unit = (vector / np.linalg.norm(vector)).astype(np.float16)
        rows.append(
            Embedding.objects.create(message_id=message_id, message_version=1, model="test", vector=unit.tobytes())
        )
    get_index().add(
        [row.pk for row in rows], np.stack([np.frombuffer(bytes(r.vector), np.float16) for r in rows]).astype(float)
    )
    low, high = period_bounds(END - dt.timedelta(days=7), END)

    ranked = answered_questions(low=low, high=high, limit=10)

    assert ranked[0].title == "How do I rotate API keys?" and ranked[0].similar == 2
    assert {q.title: q.similar for q in ranked[1:]} == {"Webhook retries": 0, "Build fails on ARM": 0}


def test_without_vectors_the_theme_counts_the_same_question_coming_back(forum: dict[str, Any]) -> None:
    theme = Theme.objects.create(title="Key rotation", first_seen=_at(END), last_seen=_at(END))
    ThemeMessage.objects.create(theme=theme, message=forum["by_staff"])
    for n in range(3):
        other = _thread(forum["forum"], f"k{n}", f"Rotate {n}", _person(f"R{n}"), _at(END - dt.timedelta(days=60)))
        ThemeMessage.objects.create(theme=theme, message=other)
    low, high = period_bounds(END - dt.timedelta(days=7), END)

    ranked = answered_questions(low=low, high=high, limit=1)

    assert [(q.title, q.similar) for q in ranked] == [("How do I rotate API keys?", 3)]


def test_a_community_link_that_is_not_http_is_never_a_link(forum: dict[str, Any]) -> None:
    thread = _thread(forum["forum"], "js", "Why?", forum["asker"], _at(END - dt.timedelta(days=2)), url="")
    Message.objects.filter(pk=thread.pk).update(url="javascript:alert(1)")
    _reply(forum["forum"], thread, _person("Staffer", staff=True), _at(END - dt.timedelta(days=1)), "Because.")
    low, high = period_bounds(END - dt.timedelta(days=7), END)

    found = {q.title: q for q in answered_questions(low=low, high=high, limit=10)}

    assert found["Why?"].url == ""


def test_the_support_part_is_switchable_and_shown_in_every_format(forum: dict[str, Any], make_user: Any) -> None:
    dana = make_user(Role.DEVREL_LEAD, username="dana", team="DevRel", is_lead=True)
    make_user(Role.STAKEHOLDER_MEMBER, username="sue", team="Support")
    support = Team.objects.get(slug="support")
    without = AudienceFactory(name="Support without", team=support, parts=[Part.NOTE])
    assert not services.update_build_draft(audience=without, period_end=END).items.exists()
    audience = AudienceFactory(name="Support", team=support, parts=[Part.SUPPORT])

    update = services.update_build_draft(audience=audience, period_end=END)

    items = list(update.items.order_by("position"))
    assert {(i.part, i.kind, i.title) for i in items} == {
        ("support", "Accepted answer", "Webhook retries"),
        ("support", "Answered by staff", "How do I rotate API keys?"),
        ("support", "Answer the asker thanked", "Build fails on ARM"),
    }
    client = Client()
    client.force_login(dana)
    draft = client.get(f"/updates/{update.pk}/edit/").content.decode()
    assert "answered by Sam from Support" in draft and "https://forum.example.com/t/t2" in draft
    text, html = services.update_email(update=update, items=items)
    chat = services.update_chat(update=update, items=items)
    assert "answered by Helpful Hana" in html and 'href="https://forum.example.com/t/d1"' in html
    assert "Thread: https://forum.example.com/t/d1" in text and "answered by Helpful Hana" in text
    assert "answered by Sam from Support" in chat
    services.update_send(update=update, by=dana)
    page = client.get(update.get_absolute_url()).content.decode()
    assert 'href="https://forum.example.com/t/t3"' in page and "answered by Helpful Hana" in page


def test_hostile_community_text_in_answered_questions_is_escaped_in_each_format(
    forum: dict[str, Any], make_user: Any, settings: Any
) -> None:
    dana = make_user(Role.DEVREL_LEAD, username="dana", team="DevRel", is_lead=True)
    make_user(Role.STAKEHOLDER_MEMBER, username="sue", team="Support")
    hostile = _person(HOSTILE, staff=True)
    thread = _thread(
        forum["forum"], "evil", HOSTILE + "?", forum["asker"], _at(END - dt.timedelta(days=2)), body=HOSTILE
    )
    # A community URL that starts like one of ours is still community text.
    Message.objects.filter(pk=thread.pk).update(url=f'{settings.BASE_URL}/t/"><script>x()</script>')
    _reply(forum["forum"], thread, hostile, _at(END - dt.timedelta(days=1)), "answer")
    audience = AudienceFactory(name="Support", team=Team.objects.get(slug="support"), parts=[Part.SUPPORT])
    update = services.update_build_draft(audience=audience, period_end=END)
    items = list(update.items.order_by("position"))

    text, html = services.update_email(update=update, items=items)
    chat = services.update_chat(update=update, items=items)
    services.update_send(update=update, by=dana)
    client = Client()
    client.force_login(dana)
    page = client.get(update.get_absolute_url()).content.decode()
    draft_free = page.split('id="item-', 1)[1]

    for body in (html, draft_free):
        assert "<script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
        assert 'href="http://evil.example"' not in body and '"><script>x()' not in body
    assert "@channel" not in html and "@channel" not in text and "@channel" not in chat
    assert "answered by <script>" in text.replace("\u2060", "")  # plain text shows it as text, mentions dead
    assert r"answered by \<script\>" in chat and "[click](http://evil.example)" not in chat.replace("\\", "X")


def test_accepted_answers_of_a_real_discourse_archive_are_found() -> None:
    source = SourceFactory(kind=Source.Kind.DISCOURSE_ARCHIVE, config={"url": "https://discourse.urho3d.io"})
    source_services.source_sync(source=source, path=DATA / "discourse/urho3d/t", batch_size=500)
    answer = Message.objects.filter(source=source, kind=Message.Kind.ANSWER).order_by("created_at").first()
    assert answer is not None
    low = answer.created_at - dt.timedelta(hours=1)

    found = answered_questions(low=low, high=low + dt.timedelta(days=7), limit=50)

    ours = [q for q in found if q.answer_url == answer.url]
    assert ours and ours[0].how == "accepted" and ours[0].url.startswith("https://discourse.urho3d.io/t/")
