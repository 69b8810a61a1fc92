"""Report drafts from real themes: counts checked against hand-counted fixtures."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from townsquare.core.weeks import week_bounds
from townsquare.feedback.models import Theme, ThemeMessage
from townsquare.feedback.tests.factories import (
    AccountFactory,
    ChannelFactory,
    IdentityFactory,
    MessageFactory,
    TeamFactory,
)
from townsquare.reports import services
from townsquare.reports.facts import theme_facts_for_week
from townsquare.reports.models import Report

pytestmark = pytest.mark.django_db
WEEK = dt.date(2026, 11, 16)


def at(days: float) -> dt.datetime:
    """A moment ``days`` after the week's Monday 00:00 (company time zone)."""
    return week_bounds(WEEK)[0] + dt.timedelta(days=days)


@pytest.fixture
def workspace() -> dict:
    product = TeamFactory(name="Product", slug="product", kind="product")
    support = TeamFactory(name="Support", slug="support", kind="support")
    github = ChannelFactory(source__name="GitHub", name="acme/app issues")
    slack = ChannelFactory(source__name="Slack", name="#help")
    acme = AccountFactory(tier="enterprise", annual_revenue=500_000, organization__name="Acme")
    beta = AccountFactory(tier="business", annual_revenue=90_000, organization__name="Beta")
    free = AccountFactory(tier="free", annual_revenue=0, organization__name="Hobbyist Co")
    ana = IdentityFactory(display_name="Ana", member__organization=acme.organization)
    bo = IdentityFactory(display_name="Bo", member__organization=beta.organization)
    cy = IdentityFactory(display_name="Cy", member__organization=free.organization)
    staff = IdentityFactory(display_name="Staffer", member__is_staff=True, member__organization=acme.organization)
    dee = IdentityFactory(display_name="Dee")

    kafka = Theme.objects.create(
        title="Kafka connector drops messages",
        department=product,
        score=12.5,
        why_now="Acme renews in December.",
        first_seen=at(-20),
    )
    rows = [
        (ana, github, 1, "Kafka connector drops messages after a rebalance", "t1"),
        (ana, slack, 2, "Still losing Kafka messages today", "t2"),
        (bo, slack, 2.5, "We see gaps in the Kafka topic after deploys", "t3"),
        (cy, github, 3, "Connector skips offsets under load", "t1"),
        (staff, slack, 3.5, "We are looking into the Kafka connector", "t2"),
        (dee, github, -3, "Last week: Kafka connector lost data", "t0"),  # the previous week
        (bo, github, 9, "Next week's message is outside the window", "t9"),
    ]
    for identity, channel, day, body, thread in rows:
        message = MessageFactory(
            author=identity, channel=channel, created_at=at(day), body=body, thread_external_id=thread
        )
        ThemeMessage.objects.create(theme=kafka, message=message, similarity=0.9 - day / 100)

    sso = Theme.objects.create(title="SSO login loops", department=support, score=4.0, first_seen=at(1))
    ThemeMessage.objects.create(theme=sso, message=MessageFactory(author=dee, channel=slack, created_at=at(4)))
    docs = Theme.objects.create(
        title="Async examples missing",
        department=product,
        score=1.0,
        addressed_release="docs 2026-11-20",
        addressed_at=at(4),
        status=Theme.Status.ADDRESSED,
    )
    merged = Theme.objects.create(
        title="Old duplicate", department=product, status=Theme.Status.MERGED, merged_into=kafka
    )
    ThemeMessage.objects.create(theme=merged, message=MessageFactory(author=dee, channel=slack, created_at=at(2)))
    return {"product": product, "support": support, "kafka": kafka, "sso": sso, "docs": docs, "staff": staff}


def test_facts_count_distinct_counted_people_and_paying_customers_in_the_week(workspace) -> None:
    facts = {f.title: f for f in theme_facts_for_week(week_start=WEEK, department=workspace["product"])}
    assert sorted(facts) == ["Async examples missing", "Kafka connector drops messages"]
    kafka = facts["Kafka connector drops messages"]
    assert kafka.message_count == 5  # four counted + the staff message, all kept
    assert kafka.people_count == 3  # Ana (twice), Bo, Cy; the staffer is not counted
    assert kafka.people_last_week == 1  # Dee
    assert kafka.trend == "rising"
    assert [c["name"] for c in kafka.customers] == ["Acme", "Beta"]  # the free tier is not paying
    assert sorted(kafka.channels) == ["#help", "acme/app issues"]
    assert [q.author for q in kafka.quotes] == ["Ana", "Bo", "Cy", "Staffer"]  # one per person, staff last
    assert len(kafka.threads) == 3
    assert kafka.note == "Acme renews in December."
    assert facts["Async examples missing"].addressed_in == "docs 2026-11-20"


def test_the_company_wide_report_takes_every_live_theme(workspace) -> None:
    titles = sorted(f.title for f in theme_facts_for_week(week_start=WEEK, department=None))
    assert titles == ["Async examples missing", "Kafka connector drops messages", "SSO login loops"]


def test_a_theme_where_only_staff_spoke_this_week_is_not_reported(workspace) -> None:
    staff = workspace["staff"]
    quiet = Theme.objects.create(title="Staff follow-ups only", score=3.0)
    ThemeMessage.objects.create(theme=quiet, message=MessageFactory(author=staff, created_at=at(2)))
    titles = {f.title for f in theme_facts_for_week(week_start=WEEK, department=None)}
    assert "Staff follow-ups only" not in titles and "SSO login loops" in titles


def test_building_a_week_drafts_company_wide_and_each_department(workspace) -> None:
    drafts = services.reports_build_week(week_start=WEEK)
    assert sorted(r.department_name for r in drafts) == ["All departments", "Product", "Support"]
    product = Report.objects.get(department=workspace["product"])
    first = product.items.get(position=1)
    assert (first.title, first.people_count, first.customer_count) == ("Kafka connector drops messages", 3, 2)
    assert str(first.revenue_total) == "590000.00"
    services.report_publish(report=product, by=None)
    again = services.reports_build_week(week_start=WEEK)
    assert sorted(r.department_name for r in again) == ["All departments", "Support"]


def test_a_curator_adds_a_theme_the_draft_did_not_pick(workspace) -> None:
    report = services.report_build_draft(week_start=WEEK, department=workspace["support"], facts=[])
    item = services.report_add_theme(report=report, theme_id=workspace["kafka"].pk)
    assert (item.title, item.people_count) == ("Kafka connector drops messages", 3)


def test_the_report_command_builds_and_publishes(workspace, capsys) -> None:
    call_command("report", "build", "--week", "2026-W47")
    call_command("report", "publish", "--week", "2026-11-18", "--department", "product")
    call_command("report", "publish", "--week", "2026-W47", "--department", "product")
    out = capsys.readouterr().out
    assert "Product · week of 2026-11-16: 2 themes" in out
    assert "was already published: nothing sent again" in out


def test_a_published_report_survives_its_theme_being_merged_and_deleted(workspace, client_for) -> None:
    from townsquare.core.roles import Role

    [product] = [r for r in services.reports_build_week(week_start=WEEK) if r.department == workspace["product"]]
    services.report_publish(report=product, by=None)
    workspace["kafka"].delete()
    page = client_for(Role.STAKEHOLDER_MEMBER).get(product.get_absolute_url())
    assert page.status_code == 200
    assert "Kafka connector drops messages" in page.content.decode()
    assert product.items.get(position=1).people_count == 3
