from __future__ import annotations

import datetime as dt

import pytest

from townsquare.core.errors import TownsquareError
from townsquare.core.roles import Role
from townsquare.notify import services as notify
from townsquare.notify.models import Notification
from townsquare.people.models import Team
from townsquare.reports import services
from townsquare.reports.models import Report, ReportItem, Subscription
from townsquare.reports.tests.factories import MONDAY, facts

pytestmark = pytest.mark.django_db


@pytest.fixture
def product() -> Team:
    return Team.objects.create(name="Product", slug="product", kind=Team.Kind.PRODUCT)


def build(product: Team, *items) -> Report:  # type: ignore[no-untyped-def]
    return services.report_build_draft(
        week_start=MONDAY,
        department=product,
        facts=items or [facts("A", theme_id=1, score=3), facts("B", theme_id=2, score=9)],
    )


def test_a_draft_ranks_themes_by_score_and_keeps_at_most_five_quotes(product) -> None:
    report = build(product)
    items = list(report.items.order_by("position"))
    assert [i.title for i in items] == ["B", "A"]
    assert len(items[0].quotes) == 5
    assert items[0].customer_count == 2
    assert str(items[0].revenue_total) == "300000.00"
    assert items[0].trend == ReportItem.Trend.RISING


@pytest.mark.parametrize(
    ("now", "before", "new", "trend"),
    [
        (5, 0, False, "new"),
        (5, 2, False, "rising"),
        (5, 4, False, "steady"),
        (2, 5, False, "falling"),
        (9, 9, True, "new"),
    ],
)
def test_trend_compares_distinct_people_with_last_week(now: int, before: int, new: bool, trend: str) -> None:
    assert facts(people=now, last_week=before, is_new=new).trend == trend


def test_building_again_keeps_the_curators_edits(product) -> None:
    report = build(product)
    item = report.items.get(position=1)
    services.report_item_update(item=item, note="Three enterprise renewals mention it.")
    again = build(product)
    assert again.pk == report.pk
    assert again.items.get(position=1).note == "Three enterprise renewals mention it."


def test_curators_reorder_drop_and_add_themes(product) -> None:
    report = build(
        product, facts("A", theme_id=1, score=3), facts("B", theme_id=2, score=2), facts("C", theme_id=3, score=1)
    )
    ids = {i.title: i.pk for i in report.items.all()}
    services.report_items_reorder(report=report, item_ids=[ids["C"], ids["A"], ids["B"]])
    assert [i.title for i in report.items.order_by("position")] == ["C", "A", "B"]
    services.report_item_remove(item=report.items.get(title="A"))
    assert [(i.position, i.title) for i in report.items.order_by("position")] == [(1, "C"), (2, "B")]
    services.report_item_add(report=report, facts=facts("D", theme_id=4))
    assert report.items.get(title="D").position == 3
    with pytest.raises(TownsquareError, match="already in the report"):
        services.report_item_add(report=report, facts=facts("D again", theme_id=4))
    with pytest.raises(TownsquareError, match="every item"):
        services.report_items_reorder(report=report, item_ids=[ids["C"]])


def test_publishing_sends_one_email_per_subscriber_and_one_chat_summary_once(product, make_user, http_endpoint) -> None:
    notify.destination_save(name="#product", url=http_endpoint.url("json"), purposes=["reports"], enabled=True)
    reader = make_user(Role.STAKEHOLDER_MEMBER, team="Product")
    teammate = make_user(Role.STAKEHOLDER_LEAD, team="Product", is_lead=True)
    outsider = make_user(Role.STAKEHOLDER_MEMBER, team="Sales")
    services.subscription_toggle(user=reader, department=product, subscribe=True)
    services.subscription_toggle(
        user=teammate, department=product, team=Team.objects.get(slug="product"), subscribe=True
    )
    report = build(product)
    first = services.report_publish(report=report, by=reader)
    second = services.report_publish(report=report, by=reader)
    assert first.sent_now and not second.sent_now
    emails = sorted(n.email for n in Notification.objects.filter(email__gt=""))
    assert emails == sorted([reader.email, teammate.email])
    assert outsider.email not in emails
    assert Notification.objects.filter(destination__isnull=False).count() == 1
    report.refresh_from_db()
    assert report.is_published and report.published_by == reader


def test_a_published_report_never_changes(product) -> None:
    report = build(product)
    services.report_publish(report=report, by=None)
    with pytest.raises(TownsquareError, match="published report cannot change"):
        services.report_item_update(item=report.items.first(), note="late edit")
    with pytest.raises(TownsquareError, match="already published"):
        build(product)


def test_an_empty_report_is_not_published(product) -> None:
    report = services.report_build_draft(week_start=MONDAY, department=product, facts=[])
    with pytest.raises(TownsquareError, match="empty report"):
        services.report_publish(report=report, by=None)
    report.refresh_from_db()
    assert report.status == Report.Status.DRAFT


def test_a_correction_is_a_new_revision_that_keeps_and_links_the_old_one(product) -> None:
    report = build(product)
    services.report_publish(report=report, by=None)
    revision = services.report_revise(report=report, by=None, correction_note="Customer count for B was wrong.")
    assert (revision.revision, revision.supersedes, revision.status) == (2, report, Report.Status.DRAFT)
    assert revision.items.count() == report.items.count()
    services.report_item_update(item=revision.items.get(position=1), note="fixed")
    assert report.items.get(position=1).note == ""
    with pytest.raises(TownsquareError, match="already been corrected"):
        services.report_revise(report=report, by=None, correction_note="again")
    week = MONDAY.isocalendar()
    assert report.subject == f"{product.name} feedback report, week {week.year}-W{week.week:02d}"
    assert revision.subject == report.subject + " (correction 1)"


def test_a_snapshot_survives_the_theme_being_deleted(product) -> None:
    report = build(product)
    services.report_publish(report=report, by=None)
    # Themes are referenced by id only: whatever happens to theme 2, the item keeps its facts.
    item = report.items.get(theme_id=2)
    assert (item.title, item.people_count) == ("B", 5)


def test_hostile_theme_text_is_escaped_in_email_and_chat(product) -> None:
    hostile = facts(
        "<img src=x onerror=alert(1)> @channel **bold** [link](http://evil)",
        theme_id=9,
        note="<script>steal()</script>",
    )
    report = build(product, hostile)
    items = list(report.items.all())
    text, html = services.report_email(report=report, items=items, unsubscribe_url="https://t.example/u/x")
    assert "<img src=x" not in html and "<script>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    chat = services.report_chat(report=report, items=items)
    assert "@channel" not in chat and "@\u2060channel" in chat
    assert "\\*\\*bold\\*\\*" in chat and "\\[link\\]" in chat
    assert "https://t.example/u/x" in text


def test_recipients_exclude_people_who_unsubscribed_from_their_teams_subscription(product, make_user) -> None:
    lead = make_user(Role.STAKEHOLDER_LEAD, team="Product", is_lead=True)
    member = make_user(Role.STAKEHOLDER_MEMBER, team="Product")
    services.subscription_toggle(user=lead, department=product, team=product, subscribe=True)
    report = build(product)
    assert services.report_recipients(report=report) == sorted([lead.email, member.email])
    token = services.unsubscribe_token(report=report, email=member.email)
    services.unsubscribe_with_token(token=token)
    assert services.report_recipients(report=report) == [lead.email]
    assert Subscription.objects.filter(team=product).exists()


def test_a_tampered_unsubscribe_token_is_refused() -> None:
    with pytest.raises(TownsquareError, match="invalid or has expired"):
        services.unsubscribe_with_token(token="forged")


def test_the_week_must_start_on_a_monday(product) -> None:
    with pytest.raises(TownsquareError, match="not a Monday"):
        services.report_build_draft(week_start=MONDAY + dt.timedelta(days=1), department=product, facts=[])


def test_a_draft_keeps_only_the_top_themes_by_score(product) -> None:
    many = [facts(f"Theme {i}", theme_id=i, score=float(i)) for i in range(1, services.DRAFT_THEMES + 6)]
    report = build(product, *many)
    titles = list(report.items.order_by("position").values_list("title", flat=True))
    assert len(titles) == services.DRAFT_THEMES
    assert titles[0] == f"Theme {services.DRAFT_THEMES + 5}"
