"""Community email addresses reach DevRel only: stakeholders and executives see a name or "a community member"
on the theme page, the report page and the reports API (issue 20, finding 10)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from townsquare.core.privacy import COMMUNITY_MEMBER, public_name
from townsquare.core.roles import Role

pytestmark = pytest.mark.django_db

ADDRESS = "ana.silva@customer.example"
OUTSIDE_DEVREL = (Role.STAKEHOLDER_MEMBER, Role.STAKEHOLDER_LEAD, Role.EXECUTIVE)
DEVREL_ROLES = (Role.DEVREL_MEMBER, Role.DEVREL_LEAD, Role.ADMIN)


def test_a_public_name_is_never_an_address() -> None:
    assert public_name(ADDRESS, "ana") == "ana"
    assert public_name(f"Ana <{ADDRESS}>", ADDRESS) == COMMUNITY_MEMBER
    assert public_name("Ana Silva", ADDRESS) == "Ana Silva"
    assert public_name("", None) == COMMUNITY_MEMBER


@pytest.fixture
def theme() -> Any:
    from townsquare.feedback import services
    from townsquare.feedback.models import Theme, ThemeMessage
    from townsquare.feedback.tests.factories import IdentityFactory, MessageFactory

    # A mailing-list author: the list gave an address and nothing else.
    author = IdentityFactory(
        realm="mbox", handle=ADDRESS, display_name=ADDRESS, email=ADDRESS, member__display_name=ADDRESS
    )
    named = IdentityFactory(
        realm="mbox", handle="bo@customer.example", display_name="Bo Chen", member__display_name="Bo Chen"
    )
    found = Theme.objects.create(title="Exports time out", status=Theme.Status.OPEN)
    for who in (author, named):
        message = MessageFactory(author=who, body="Exports time out after a minute")
        ThemeMessage.objects.create(theme=found, message=message, similarity=0.9)
    services.theme_refresh(theme_ids=[found.pk], phrases_too=False)
    return found


@pytest.mark.parametrize("role", OUTSIDE_DEVREL)
def test_the_theme_page_hides_addresses_outside_devrel(client_for: Any, theme: Any, role: str) -> None:
    page = client_for(role).get(f"/feedback/themes/{theme.pk}/").content.decode()
    assert "Exports time out" in page
    assert "customer.example" not in page
    assert COMMUNITY_MEMBER in page and "Bo Chen" in page


@pytest.mark.parametrize("role", DEVREL_ROLES)
def test_devrel_sees_the_addresses_on_the_theme_page(client_for: Any, theme: Any, role: str) -> None:
    page = client_for(role).get(f"/feedback/themes/{theme.pk}/").content.decode()
    assert ADDRESS in page


@pytest.fixture
def report() -> Any:
    from townsquare.people.models import Team
    from townsquare.reports import services
    from townsquare.reports.services import Quote
    from townsquare.reports.tests.factories import MONDAY, facts

    product = Team.objects.create(name="Product", slug="product", kind=Team.Kind.PRODUCT)
    # As snapshots stored before this fix hold them: the author is the address.
    quote = Quote(text="Exports time out", author=ADDRESS, channel="dev list", url="https://x.example/1", message_id=1)
    draft = services.report_build_draft(
        week_start=MONDAY, department=product, facts=[dataclasses.replace(facts("Exports"), quotes=[quote])]
    )
    services.report_publish(report=draft, by=None)
    draft.refresh_from_db()
    return draft


@pytest.mark.parametrize("role", OUTSIDE_DEVREL)
def test_the_report_page_and_api_hide_addresses_outside_devrel(client_for: Any, report: Any, role: str) -> None:
    client = client_for(role)
    page = client.get(report.get_absolute_url()).content.decode()
    assert "Exports time out" in page and ADDRESS not in page and COMMUNITY_MEMBER in page
    api = client.get(f"/api/v1/reports/{report.pk}/")
    assert api.status_code == 200
    assert api.json()["items"][0]["quotes"][0]["author"] == COMMUNITY_MEMBER
    assert ADDRESS not in api.content.decode()
    assert ADDRESS not in client.get(f"/reports/{report.pk}/items/1/").content.decode()


@pytest.mark.parametrize("role", DEVREL_ROLES)
def test_devrel_sees_the_address_in_the_report_api(client_for: Any, report: Any, role: str) -> None:
    client = client_for(role)
    assert client.get(f"/api/v1/reports/{report.pk}/").json()["items"][0]["quotes"][0]["author"] == ADDRESS
    assert ADDRESS in client.get(report.get_absolute_url()).content.decode()


def test_the_report_email_names_no_address(report: Any) -> None:
    from townsquare.reports import services

    text, html = services.report_email(report=report, items=list(report.items.all()), unsubscribe_url="https://x/u")
    assert ADDRESS not in text and ADDRESS not in html and COMMUNITY_MEMBER in text


def test_a_new_report_snapshot_stores_a_name_not_the_address(theme: Any) -> None:
    from townsquare.feedback import selectors
    from townsquare.reports.facts import _quotes

    rows = list(selectors.theme_messages(theme))
    authors = {q.author for q in _quotes(rows)}
    assert authors == {COMMUNITY_MEMBER, "Bo Chen"}
