"""The weekly report follows curation: routing reaches the current draft; the editor and publishing are safe."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.apps import apps

from townsquare.core.roles import Role
from townsquare.core.weeks import last_complete_week, week_bounds
from townsquare.feedback.models import Theme, ThemeMessage
from townsquare.feedback.services.curation import theme_route
from townsquare.feedback.tests.factories import ChannelFactory, IdentityFactory, MessageFactory
from townsquare.notify.models import Notification
from townsquare.people.models import Team
from townsquare.reports import services
from townsquare.reports.models import Report, Subscription, Unsubscribe
from townsquare.reports.tests.factories import MONDAY, facts

pytestmark = pytest.mark.django_db


@pytest.fixture
def product() -> Team:
    return Team.objects.create(name="Product", slug="product", kind=Team.Kind.PRODUCT)


@pytest.fixture
def support() -> Team:
    return Team.objects.create(name="Support", slug="support", kind=Team.Kind.SUPPORT)


def theme_with_feedback(title: str, *, department: Team | None, people: int = 2, score: float = 5) -> Theme:
    """A live theme with ``people`` distinct community members writing in the week being reported."""
    start = week_bounds(last_complete_week())[0]
    theme = Theme.objects.create(
        title=title, department=department, score=score, first_seen=start - dt.timedelta(days=30)
    )
    channel = ChannelFactory(source__name="GitHub", name="acme/app issues")
    for i in range(people):
        message = MessageFactory(
            author=IdentityFactory(), channel=channel, created_at=start + dt.timedelta(days=1, hours=i)
        )
        ThemeMessage.objects.create(theme=theme, message=message, similarity=0.9)
    return theme


def draft_titles(department: Team) -> list[str]:
    draft = Report.objects.get(week_start=last_complete_week(), department=department)
    return [item.title for item in draft.items.order_by("position")]


def test_a_theme_routed_after_the_draft_was_built_appears_in_it_and_leaves_when_routed_elsewhere(
    make_user, product, support
) -> None:
    curator = make_user(Role.DEVREL_MEMBER, team="DevRel")
    theme_with_feedback("Kafka connector drops messages", department=product, score=9)
    services.reports_build_week(week_start=last_complete_week())
    late = theme_with_feedback("Webhook signatures fail after key rotation", department=None, score=2)

    theme_route(theme=late, department=product, by=curator)
    assert draft_titles(product) == ["Kafka connector drops messages", "Webhook signatures fail after key rotation"]
    [item] = Report.objects.get(department=product).items.filter(theme_id=late.pk)
    assert (item.people_count, item.pinned) == (2, False)

    theme_route(theme=late, department=support, by=curator)
    assert draft_titles(product) == ["Kafka connector drops messages"]
    # Support had no draft this week: routing made one, with the theme in it, and subscribed its team.
    assert draft_titles(support) == ["Webhook signatures fail after key rotation"]
    assert Subscription.objects.filter(department=support, team=support).exists()


def test_a_theme_a_curator_pinned_stays_when_it_is_unrouted(make_user, product) -> None:
    curator = make_user(Role.DEVREL_MEMBER, team="DevRel")
    theme = theme_with_feedback("SSO loops on Safari", department=None)
    draft = services.report_build_draft(week_start=last_complete_week(), department=product, facts=[])
    services.report_add_theme(report=draft, theme_id=theme.pk)
    theme_route(theme=theme, department=product, by=curator)
    theme_route(theme=theme, department=None, by=curator)
    assert draft_titles(product) == ["SSO loops on Safari"]


def test_routing_once_the_week_is_published_reaches_the_next_weeks_draft(make_user, product) -> None:
    curator = make_user(Role.DEVREL_MEMBER, team="DevRel")
    week = last_complete_week()
    sent = services.report_build_draft(week_start=week, department=product, facts=[facts("Old", theme_id=None)])
    services.report_publish(report=sent, by=None)
    theme = theme_with_feedback("Rate limits hit on bulk export", department=None)
    theme_route(theme=theme, department=product, by=curator)
    upcoming = Report.objects.get(week_start=week + dt.timedelta(weeks=1), department=product)
    assert [i.title for i in upcoming.items.all()] == ["Rate limits hit on bulk export"]
    assert [i.title for i in sent.items.all()] == ["Old"]


def test_rebuilding_the_week_adds_new_themes_without_undoing_curation(make_user, product) -> None:
    a = theme_with_feedback("A: crash on start", department=product, score=9)
    b = theme_with_feedback("B: slow search", department=product, score=8)
    c = theme_with_feedback("C: docs gap on auth", department=product, score=7)
    [draft] = [d for d in services.reports_build_week(week_start=last_complete_week()) if d.department == product]
    item_a, item_b, item_c = draft.items.order_by("position")
    services.report_draft_save(
        report=draft, intro="Busy week.", items={item_a.pk: services.ItemEdit(note="Renewals at risk.", title="Crash")}
    )
    services.report_items_reorder(report=draft, item_ids=[item_b.pk, item_a.pk, item_c.pk])
    services.report_item_remove(item=item_c)
    theme_with_feedback("D: new this week", department=product, score=1)
    ThemeMessage.objects.create(
        theme=a,
        message=MessageFactory(author=IdentityFactory(), created_at=week_bounds(last_complete_week())[0]),
        similarity=0.8,
    )
    Theme.objects.filter(pk=b.pk).update(title="B: search is slow on large workspaces")

    services.reports_build_week(week_start=last_complete_week())
    draft.refresh_from_db()
    rows = [(i.title, i.note, i.people_count) for i in draft.items.order_by("position")]
    # Order and the curator's words stay, the figures are fresh, the untouched title follows the theme,
    # the dropped theme stays dropped and the new one comes last.
    assert rows == [
        ("B: search is slow on large workspaces", "", 2),
        ("Crash", "Renewals at risk.", 3),
        ("D: new this week", "", 2),
    ]
    assert draft.intro == "Busy week." and c.pk in draft.dropped_theme_ids


def test_the_editor_saves_a_note_typed_in_the_second_item_when_the_first_is_saved(client_for, product) -> None:
    client = client_for(Role.DEVREL_MEMBER)
    report = services.report_build_draft(
        week_start=MONDAY, department=product, facts=[facts("A", theme_id=1, score=2), facts("B", theme_id=2, score=1)]
    )
    a, b = report.items.order_by("position")
    page = client.get(f"/reports/{report.pk}/edit/").content.decode()
    main = page[page.index("<main") :]
    assert main.count("<form") == 2  # the whole draft, and the publish confirmation in its dialog
    client.post(
        f"/reports/{report.pk}/edit/",
        {
            "action": "save",
            "intro": "",
            f"title-{a.pk}": "A renamed",
            f"note-{a.pk}": "First note.",
            f"title-{b.pk}": "B",
            f"note-{b.pk}": "Second note, typed before saving the first.",
        },
    )
    assert [(i.title, i.note) for i in report.items.order_by("position")] == [
        ("A renamed", "First note."),
        ("B", "Second note, typed before saving the first."),
    ]


def test_moving_an_item_keeps_the_text_typed_in_another(client_for, product) -> None:
    client = client_for(Role.DEVREL_MEMBER)
    report = services.report_build_draft(
        week_start=MONDAY, department=product, facts=[facts("A", theme_id=1, score=2), facts("B", theme_id=2, score=1)]
    )
    a, b = report.items.order_by("position")
    response = client.post(
        f"/reports/{report.pk}/edit/",
        {
            "action": f"down:{a.pk}",
            f"title-{a.pk}": "A",
            f"note-{a.pk}": "",
            f"title-{b.pk}": "B",
            f"note-{b.pk}": "Kept.",
        },
    )
    assert response["Location"].endswith(f"/reports/{report.pk}/edit/#item-2")
    assert [(i.title, i.note) for i in report.items.order_by("position")] == [("B", "Kept."), ("A", "")]


def test_a_blank_title_saves_nothing_of_the_draft(client_for, product) -> None:
    client = client_for(Role.DEVREL_MEMBER)
    report = services.report_build_draft(
        week_start=MONDAY, department=product, facts=[facts("A", theme_id=1, score=2), facts("B", theme_id=2, score=1)]
    )
    a, b = report.items.order_by("position")
    response = client.post(
        f"/reports/{report.pk}/edit/",
        {"action": "save", f"title-{a.pk}": "A", f"note-{a.pk}": "Lost?", f"title-{b.pk}": " ", f"note-{b.pk}": ""},
        follow=True,
    )
    assert "a theme needs a title" in response.content.decode()
    assert [i.note for i in report.items.all()] == ["", ""]


def test_publishing_asks_for_confirmation_showing_who_receives_it(client_for, make_user, product) -> None:
    client = client_for(Role.DEVREL_MEMBER)
    reader = make_user(Role.STAKEHOLDER_MEMBER, username="priya", team="Product")
    report = services.report_build_draft(
        week_start=MONDAY, department=product, facts=[facts("Kafka <b>drops</b>", theme_id=1)]
    )
    assert Subscription.objects.filter(department=product, team=product).exists()
    page = client.get(f"/reports/{report.pk}/publish/").content.decode()
    assert "Publish Product, week" in page and reader.email in page and "Publish and send" in page
    assert "Kafka &lt;b&gt;drops&lt;/b&gt;" in page
    report.refresh_from_db()
    assert report.status == Report.Status.DRAFT and not Notification.objects.exists()
    client.post(f"/reports/{report.pk}/publish/")
    report.refresh_from_db()
    assert report.is_published and Notification.objects.filter(email=reader.email).exists()


def test_sending_a_correction_is_confirmed_as_a_correction(client_for, product) -> None:
    client = client_for(Role.DEVREL_MEMBER)
    report = services.report_build_draft(week_start=MONDAY, department=product, facts=[facts("A", theme_id=1)])
    services.report_publish(report=report, by=None)
    revision = services.report_revise(report=report, by=None, correction_note="Wrong customer count")
    page = client.get(f"/reports/{revision.pk}/publish/").content.decode()
    assert "Send correction 1 of Product" in page and "Wrong customer count" in page
    assert "Send the correction" in page
    revision.refresh_from_db()
    assert revision.status == Report.Status.DRAFT


def test_each_departments_team_reads_its_report_by_default_unless_someone_unsubscribes(
    make_user, product, support
) -> None:
    devrel = Team.objects.create(name="DevRel", slug="devrel", kind=Team.Kind.DEVREL)
    migration = importlib.import_module("townsquare.reports.migrations.0003_default_team_subscriptions")
    migration.subscribe_departments(apps, None)
    migration.subscribe_departments(apps, None)  # safe to run twice
    assert set(Subscription.objects.values_list("department__slug", "team__slug")) == {
        ("product", "product"),
        ("support", "support"),
    }
    assert not Subscription.objects.filter(team=devrel).exists()
    ana = make_user(Role.STAKEHOLDER_MEMBER, username="ana", team="Product")
    bo = make_user(Role.STAKEHOLDER_MEMBER, username="bo", team="Product")
    services.subscription_toggle(user=bo, department=product, subscribe=False)
    assert Unsubscribe.objects.filter(user=bo, department=product).exists()
    report = services.report_build_draft(week_start=MONDAY, department=product, facts=[facts("A", theme_id=1)])
    assert services.report_recipients(report=report) == [ana.email]


def test_a_new_department_is_subscribed_once_and_a_lead_can_still_remove_it(make_user) -> None:
    sales = Team.objects.create(name="Sales", slug="sales", kind=Team.Kind.SALES)
    services.report_build_draft(week_start=MONDAY, department=sales, facts=[facts("A", theme_id=1)])
    assert Subscription.objects.filter(department=sales, team=sales).exists()
    lead = make_user(Role.STAKEHOLDER_LEAD, team="Sales", is_lead=True)
    services.subscription_toggle(user=lead, department=sales, team=sales, subscribe=False)
    services.report_build_draft(
        week_start=MONDAY + dt.timedelta(weeks=1), department=sales, facts=[facts("A", theme_id=1)]
    )
    assert not Subscription.objects.filter(department=sales, team=sales).exists()


def test_a_team_member_sees_the_default_subscription_and_can_unsubscribe_alone(client, make_user, product) -> None:
    Subscription.objects.create(department=product, team=product)
    ana = make_user(Role.STAKEHOLDER_MEMBER, username="ana", team="Product")
    bo = make_user(Role.STAKEHOLDER_MEMBER, username="bo", team="Product")
    client.force_login(ana)
    page = client.get("/reports/subscriptions/").content.decode()
    product_row = page[page.index("<td>Product</td>") :]
    assert 'value="0"' in product_row[: product_row.index("</tr>")]  # "Unsubscribe": it reaches her already
    client.post("/reports/subscriptions/", {"department": product.pk, "subscribe": "0"})
    report = services.report_build_draft(week_start=MONDAY, department=product, facts=[facts("A", theme_id=1)])
    assert services.report_recipients(report=report) == [bo.email]
    assert Subscription.objects.filter(department=product, team=product).exists()
