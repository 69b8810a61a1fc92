"""A member's messages, which sources owns and people's pages and GDPR services reach through core's hooks."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from townsquare.people.models import Identity, Member
from townsquare.people.services import member_split
from townsquare.people.tests.factories import AccountFactory, IdentityFactory, MemberFactory
from townsquare.sources.member_data import members_activity_refresh
from townsquare.sources.tests.factories import MessageFactory, SourceFactory

pytestmark = pytest.mark.django_db


def messages_url(member: Member) -> str:
    return reverse("sources:member-messages", args=[member.pk])


def test_it_sets_first_and_last_seen_from_messages() -> None:
    message = MessageFactory()
    MessageFactory(author=message.author)
    members_activity_refresh(member_ids=[message.author.member_id])
    member = Member.objects.get(pk=message.author.member_id)
    assert member.first_seen is not None and member.last_seen is not None
    assert member.first_seen < member.last_seen
    assert Identity.objects.count() == 1


def test_a_split_sets_each_members_first_and_last_seen_through_the_hook() -> None:
    member = MemberFactory()
    github, slack = IdentityFactory(member=member, realm="github"), IdentityFactory(member=member, realm="slack:T1")
    early, late = MessageFactory(author=github), MessageFactory(author=slack)
    members_activity_refresh(member_ids=[member.pk])
    record = member_split(member=member, identity_ids=[slack.pk], by=None)
    kept, new = Member.objects.get(pk=member.pk), Member.objects.get(identities=slack)
    assert record.target_id in (kept.pk, new.pk)
    assert (kept.first_seen, kept.last_seen) == (early.created_at, early.created_at)
    assert (new.first_seen, new.last_seen) == (late.created_at, late.created_at)


def test_the_member_messages_show_every_channel_newest_first(
    client_for: Any, django_assert_max_num_queries: Any
) -> None:
    client = client_for("devrel_member")
    member = MemberFactory(display_name="Ana", organization=AccountFactory(tier="business").organization)
    for n, kind in enumerate(["github", "slack", "discourse"]):
        identity = IdentityFactory(member=member, realm=kind)
        MessageFactory(author=identity, source=SourceFactory(name=f"Our {kind}"), url=f"https://{kind}.example/{n}")
    with django_assert_max_num_queries(9):
        response = client.get(messages_url(member), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    shown = re.findall(r'href="https://(\w+)\.example/', html)
    assert shown == ["discourse", "slack", "github"]  # the factory writes them a minute apart: newest first
    assert html.lstrip().startswith('<section class="people-messages" id="member-messages">')  # the section only
    assert "<html" not in html


def test_the_member_messages_are_a_page_of_their_own_without_htmx(client_for: Any) -> None:
    client = client_for("devrel_member")
    identity = IdentityFactory(member__display_name="Ana")
    MessageFactory(author=identity, url="https://chat.example.com/m/ana")
    html = client.get(messages_url(identity.member)).content.decode()
    assert "<html" in html and "<h1>Messages by Ana</h1>" in html
    assert f'<a href="{identity.member.get_absolute_url()}">Ana</a>' in html
    assert 'href="https://chat.example.com/m/ana"' in html


def test_the_member_messages_count_per_channel_and_page_through(client_for: Any) -> None:
    client = client_for("devrel_member")
    member = MemberFactory(display_name="Ana")
    github, slack = SourceFactory(name="Our GitHub"), SourceFactory(name="Our Slack")
    MessageFactory.create_batch(22, author=IdentityFactory(member=member, realm="github"), source=github)
    MessageFactory.create_batch(13, author=IdentityFactory(member=member, realm="slack:T1"), source=slack)
    MessageFactory(author=IdentityFactory(realm="github"), source=github)  # someone else's
    html = client.get(messages_url(member), {"page": "2"}, HTTP_HX_REQUEST="true").content.decode()
    assert html.count('<li class="panel">') == 5
    assert "35 messages (22 on Our GitHub, 13 on Our Slack)" in html
    assert "Page 2 of 2" in html
    # the pager swaps the section in place, and still works as a plain link
    newer = f"{messages_url(member)}?page=1"
    assert f'<a href="{newer}" hx-get="{newer}" hx-target="#member-messages" hx-swap="outerHTML">Newer</a>' in html


def test_the_member_messages_escape_community_text_and_sanitise_html(client_for: Any) -> None:
    client = client_for("devrel_member")
    identity = IdentityFactory(handle="<script>alert(1)</script>", member__display_name="<img src=x onerror=alert(2)>")
    MessageFactory(author=identity, title="<b>t</b>", body="<script>alert(3)</script>")
    MessageFactory(author=identity, body_html='<p>ok</p><script>alert(4)</script><a href="javascript:alert(5)">x</a>')
    html = client.get(messages_url(identity.member)).content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html and "javascript:" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<p>ok</p>" in html


def test_the_member_messages_of_an_unknown_member_are_not_found(client_for: Any) -> None:
    assert client_for("devrel_member").get(reverse("sources:member-messages", args=[987654])).status_code == 404


def test_stakeholders_cannot_read_a_members_messages(client_for: Any) -> None:
    member = MessageFactory().author.member
    assert client_for("stakeholder_member").get(messages_url(member)).status_code == 403


def test_the_member_section_charts_a_year_by_channel_and_dates_each_channel(client_for: Any) -> None:
    import datetime as dt

    from django.utils import timezone

    from townsquare.people.selectors import member_with_identities
    from townsquare.sources.selectors import member_monthly_activity

    client = client_for("devrel_member")
    now = timezone.now()
    member = MemberFactory(display_name="Ana")
    slack, forum = IdentityFactory(member=member, realm="slack:T1"), IdentityFactory(member=member, realm="discourse")
    slack_source, forum_source = SourceFactory(name="Our Slack"), SourceFactory(name="Our <b>forum</b>")
    first = MessageFactory(author=slack, source=slack_source, created_at=now - dt.timedelta(days=200))
    MessageFactory(author=slack, source=slack_source, created_at=now - dt.timedelta(days=3))
    last = MessageFactory(author=slack, source=slack_source, created_at=now - dt.timedelta(days=2))
    MessageFactory(author=forum, source=forum_source, created_at=now - dt.timedelta(days=3))
    MessageFactory(author=forum, source=forum_source, created_at=now - dt.timedelta(days=500))  # before the year

    chart = member_monthly_activity(member=member_with_identities(pk=member.pk), now=now)
    assert len(chart.labels) == 12 and chart.labels[-1] == timezone.localtime(now).strftime("%b %Y")
    by_name = {series.name: list(series.values) for series in chart.series}
    assert sum(by_name["Our Slack"]) == 3 and sum(by_name["Our <b>forum</b>"]) == 1
    assert [s.name for s in chart.series] == ["Our Slack", "Our <b>forum</b>"]  # the busiest channel first
    assert chart.summary == "4 messages in the last 12 months, most on Our Slack."

    html = client.get(messages_url(member), HTTP_HX_REQUEST="true").content.decode()
    assert "Where they talk" in html and "<svg" in html
    assert "Our <b>forum</b>" not in html and "Our &lt;b&gt;forum&lt;/b&gt;" in html
    slack_row = html.split("<td>Our Slack</td>", 1)[1].split("</tr>", 1)[0]
    first_day, last_day = (timezone.localtime(m.created_at).date().isoformat() for m in (first, last))
    first_cell, last_cell = slack_row.split("</td><td>")[-2:]
    assert f'datetime="{first_day}T' in first_cell and f'datetime="{last_day}T' in last_cell
