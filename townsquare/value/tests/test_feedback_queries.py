"""The feedback section's grouped queries against the same figures counted row by row in Python."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from townsquare.core.quarters import quarter_bounds
from townsquare.feedback.models import Theme, ThemeMessage
from townsquare.feedback.selectors import PAYING_TIERS
from townsquare.feedback.tests.factories import AccountFactory, IdentityFactory, MemberFactory, OrganizationFactory
from townsquare.people.tests.factories import TeamFactory
from townsquare.value.sections import feedback

from .corpus import QUARTER, _person, _say, _theme, build_corpus

pytestmark = pytest.mark.django_db


def _more_feedback() -> None:
    """Beyond the hand-counted corpus: every kind of row the figures must leave out, and a few they count."""
    product = TeamFactory(name="Product")
    startup = AccountFactory(organization=OrganizationFactory(name="Tinyco"), tier="startup", annual_revenue=40_000)
    free = AccountFactory(organization=OrganizationFactory(name="Freeco"), tier="free", annual_revenue=900_000)
    tiny, freeloader = _person(account=startup), _person(account=free)
    bot_member = IdentityFactory(member=MemberFactory(is_bot=True))
    bot_identity = IdentityFactory(member=MemberFactory(), is_bot=True)
    api = _theme("API rate limits", first_seen=20, addressed=80, team=product)
    for author, day in ((tiny, 21), (freeloader, 22), (bot_member, 23), (bot_identity, 24), (None, 25)):
        _say(api, author, day)
    _say(api, tiny, -3)  # before the quarter: not in it, but behind the addressed theme
    _say(api, freeloader, 95)  # after the quarter: in neither
    merged = _theme("Merged away", first_seen=5, team=product)
    merged.status = Theme.Status.MERGED
    merged.save()
    _say(merged, tiny, 30)
    only_bots = _theme("Only bots", first_seen=1)
    _say(only_bots, bot_member, 2)


def _counted(message: Any) -> bool:
    author = message.author
    if author is None:  # an author erased or never known
        return False
    member = author.member
    return member is not None and not member.is_staff and not member.is_bot and not author.is_bot


def _account(message: Any) -> Any:
    organization = message.author.member.organization
    return getattr(organization, "account", None) if organization else None


def _reference_quarter() -> tuple[dict[int, str], dict[int, tuple[str, str, Decimal]]]:
    start, end = quarter_bounds(QUARTER)
    themes: dict[int, str] = {}
    customers: dict[int, tuple[str, str, Decimal]] = {}
    for row in ThemeMessage.objects.select_related("theme__department", "message__author__member"):
        message = row.message
        if row.theme.status == Theme.Status.MERGED or not start <= message.created_at < end or not _counted(message):
            continue
        themes[row.theme_id] = row.theme.department.name if row.theme.department else ""
        account = _account(message)
        if account is not None and account.tier in PAYING_TIERS:
            customers[account.pk] = (account.name, account.tier, account.annual_revenue or Decimal(0))
    return themes, customers


def _reference_behind(theme_ids: list[int]) -> dict[int, dict[int, tuple[str, str, Decimal]]]:
    end = quarter_bounds(QUARTER)[1]
    found: dict[int, dict[int, tuple[str, str, Decimal]]] = {}
    for row in ThemeMessage.objects.filter(theme_id__in=theme_ids).select_related("message__author__member"):
        if row.message.created_at >= end or not _counted(row.message):
            continue
        account = _account(row.message)
        if account is not None and account.tier in PAYING_TIERS:
            found.setdefault(row.theme_id, {})[account.pk] = (
                account.name, account.tier, account.annual_revenue or Decimal(0)
            )  # fmt: skip
    return found


def test_the_quarter_query_finds_the_themes_and_customers_counted_row_by_row() -> None:
    build_corpus()
    _more_feedback()
    themes, customers = feedback._quarter_feedback(*quarter_bounds(QUARTER))
    reference_themes, reference_customers = _reference_quarter()
    assert themes == reference_themes
    assert customers == reference_customers
    assert sorted(name for name, _, _ in customers.values()) == ["Bigco", "Midco", "Tinyco"]  # not Freeco
    assert sorted(themes.values()) == ["", "Engineering", "Product", "Support"]  # no merged, no bots-only


def test_the_customers_behind_addressed_themes_match_the_row_by_row_count() -> None:
    build_corpus()
    _more_feedback()
    start, end = quarter_bounds(QUARTER)
    addressed = list(Theme.objects.filter(addressed_at__gte=start, addressed_at__lt=end).values_list("pk", flat=True))
    assert len(addressed) == 3
    assert feedback._paying_accounts_per_theme(addressed, before=end) == _reference_behind(addressed)


def test_the_section_figures_agree_with_the_row_by_row_reference() -> None:
    build_corpus()
    _more_feedback()
    section = feedback.build(QUARTER)
    themes, customers = _reference_quarter()
    figures = {key: f["value"] for key, f in section["figures"].items()}
    assert figures["themes_active"] == len(themes) == 4
    assert figures["themes_routed"] == sum(1 for name in themes.values() if name)
    assert figures["paying_customers"] == len(customers)
    assert figures["customer_revenue"] == float(sum(r for _, _, r in customers.values()))
    routed = {row[0]: row[1] for row in section["tables"][0]["rows"]}
    assert routed == {"Engineering": 1, "Support": 1, "Product": 1, "Not routed yet": 1}
