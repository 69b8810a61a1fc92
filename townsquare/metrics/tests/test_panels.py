"""The Value pages' rendered panels are cached per snapshot (Health) or per content (Downloads): a new
snapshot or a new stored month shows at once, and what may change under a snapshot is read at each view."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from townsquare.core import charts as core_charts
from townsquare.core.roles import Role
from townsquare.metrics import charts, panels, views
from townsquare.metrics.downloads.base import DailyCounts
from townsquare.metrics.models import ChannelMap, HealthFigures, HealthSnapshot
from townsquare.metrics.services import downloads as downloads_services
from townsquare.metrics.services import health as services
from townsquare.metrics.tasks import recompute_metrics_task
from townsquare.metrics.tests.conftest import Community, at
from townsquare.people.services import member_erase
from townsquare.people.tests.factories import AccountFactory, IdentityFactory, MemberFactory
from townsquare.sources.models import Message
from townsquare.sources.tests.factories import MessageFactory

pytestmark = pytest.mark.django_db


def main(response: Any) -> str:
    """The page's content, without the per-response CSRF token in the head."""
    html = response.content.decode()
    return html[html.index("<main") :]


def joined(html: str, month: str) -> int | None:
    """New people of a month in the page's retention table (None: no row, nobody joined)."""
    table = html[html.index('id="retention"') :]
    found = re.search(rf'<th scope="row">{month}</th><td class="num">(\d+)</td>', table[: table.index("</table>")])
    return int(found.group(1)) if found else None


def test_a_new_snapshot_shows_its_own_figures_though_the_old_panels_are_cached(
    client_for: Any, community: Community
) -> None:
    client = client_for(Role.DEVREL_MEMBER)
    services.health_recompute()
    first = main(client.get("/value/health/"))
    assert main(client.get("/value/health/")) == first  # the second view reads the cached panels
    assert joined(first, "2024-01") == 1 and joined(first, "2024-04") is None  # alice joined in January
    # Two people new in 2024-04: the April cohort grows, in the next snapshot only.
    for name in ("Fay", "Gus"):
        identity = IdentityFactory(member=MemberFactory(display_name=name), realm="slack")
        MessageFactory(source=community.slack, channel=None, author=identity, created_at=at("2024-04-21 09:00"))
    assert main(client.get("/value/health/")) == first  # same snapshot, same figures
    services.health_recompute()
    after = main(client.get("/value/health/"))
    assert joined(after, "2024-04") == 2


def test_an_erased_persons_question_leaves_the_cached_page_at_once(client_for: Any, community: Community) -> None:
    client = client_for(Role.DEVREL_MEMBER)
    services.health_recompute()
    assert "&lt;b&gt;Nobody?&lt;/b&gt;" in client.get("/value/health/").content.decode()
    member_erase(member=community.alice, by=None, reason="asked to be forgotten")
    assert not Message.objects.filter(title="<b>Nobody?</b>").exists()
    assert "Nobody?" not in client.get("/value/health/").content.decode()


def test_the_recompute_task_draws_every_scope_and_the_channel_map(community: Community) -> None:
    snapshot_id = recompute_metrics_task.call()
    snapshot = HealthSnapshot.objects.get(pk=snapshot_id)
    for source_id, figures in HealthFigures.objects.filter(snapshot=snapshot).values_list("source_id", "data"):
        if figures.get("empty"):
            continue
        months, _ = panels.months_window(figures, None, None)
        assert cache.get(panels._panels_key(snapshot, source_id, months)) is not None, source_id
    names = {community.forum.pk: "Forum", community.slack.pk: "Slack", community.empty.pk: "Empty list"}
    for data in ChannelMap.objects.filter(snapshot=snapshot).values_list("data", flat=True):
        for chart in charts.channel_charts(data, names).values():
            assert chart.empty or cache.get(chart.cache_key) is not None, chart.title


def test_the_health_page_opens_on_the_warmed_panels_without_drawing(client_for: Any, community: Community) -> None:
    snapshot = HealthSnapshot.objects.get(pk=recompute_metrics_task.call())
    figures = HealthFigures.objects.get(snapshot=snapshot, source=None).data
    months, quarters = panels.months_window(figures, None, None)
    drawn = [c for c in charts.health_charts(figures, months, quarters).values() if not c.empty]
    cache.delete_many([c.cache_key for c in drawn])  # only the page's panels are left in the cache
    assert client_for(Role.EXECUTIVE).get("/value/health/").status_code == 200
    assert not any(cache.get(c.cache_key) for c in drawn)  # served whole from the panels: nothing drawn


def test_the_filter_reads_channels_with_plain_queries(client_for: Any, community: Community) -> None:
    services.health_recompute()
    client = client_for(Role.DEVREL_LEAD)
    client.get("/value/health/", {"source": community.forum.pk})
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/value/health/", {"source": community.forum.pk}).status_code == 200
        assert client.get("/value/channels/", {"retire": [community.slack.pk], "to": "new"}).status_code == 200
    sql = [q["sql"] for q in queries.captured_queries]
    assert not any("DECLARE" in s for s in sql), sql  # no server-side cursor for a dozen channels
    assert not any("secrets" in s for s in sql), sql  # nor a decrypted secret per channel


def test_the_downloads_page_shows_a_new_month_and_a_new_label_at_once(client: Any, make_user: Any) -> None:
    client.force_login(make_user(Role.EXECUTIVE))
    package = downloads_services.package_add(registry="pypi", name="acme-cloud")
    today = dt.datetime.now(dt.UTC).date()
    this_month = today.replace(day=1)
    month = (this_month - dt.timedelta(days=1)).replace(day=1)
    days = {month + dt.timedelta(days=n): 7 for n in range((this_month - month).days)}
    first_days = dict(list(days.items())[:10])
    downloads_services.package_store(package=package, result=DailyCounts(days=first_days), today=today)
    first = main(client.get("/value/downloads/"))
    assert ">70 <span" in first and main(client.get("/value/downloads/")) == first
    downloads_services.package_store(package=package, result=DailyCounts(days=days), today=today)
    whole = client.get("/value/downloads/").content.decode()
    assert f">{7 * len(days)}</td>" in whole or f">{7 * len(days)} <span" in whole
    downloads_services.package_update(package=package, label="Acme <SDK>", enabled=True)
    relabelled = client.get("/value/downloads/").content.decode()
    # the packages table, the month table's head and the chart's table: not only the uncached part
    assert "Acme &lt;SDK&gt;" not in whole and relabelled.count("Acme &lt;SDK&gt;") >= 3


def test_panels_are_keyed_by_what_they_show(community: Community) -> None:
    snapshot = services.health_recompute()
    assert snapshot is not None
    again = HealthSnapshot.objects.get(pk=snapshot.pk)
    months = slice(0, 3)
    assert panels._panels_key(snapshot, None, months) == panels._panels_key(again, None, months)
    assert panels._panels_key(snapshot, None, months) != panels._panels_key(snapshot, community.forum.pk, months)
    assert panels._panels_key(snapshot, None, months) != panels._panels_key(snapshot, None, slice(1, 3))
    # A database made again reuses ids; the finish time tells its snapshots apart from the cached ones.
    again.finished_at = again.finished_at + dt.timedelta(microseconds=1) if again.finished_at else None
    assert panels._panels_key(snapshot, None, months) != panels._panels_key(again, None, months)
    assert str(core_charts.STYLE_VERSION) in panels._panels_key(snapshot, None, months)


def test_a_scenario_lists_the_customers_with_most_revenue_and_the_csv_lists_all(
    client_for: Any, community: Community, monkeypatch: pytest.MonkeyPatch
) -> None:
    bigco = AccountFactory(name="Bigco", annual_revenue=900_000)
    buyer = IdentityFactory(member=MemberFactory(display_name="Bea", organization=bigco.organization), realm="slack")
    MessageFactory(source=community.slack, channel=None, author=buyer, created_at=at("2024-04-02 09:00"))
    services.health_recompute()
    monkeypatch.setattr(views, "CUSTOMERS_SHOWN", 1)
    client = client_for(Role.DEVREL_MEMBER)
    query = {"window": "all", "retire": [community.slack.pk], "to": community.forum.pk}
    page = client.get("/value/channels/", query).content.decode()
    listed = page[page.index('id="customers"') : page.index("</table>", page.index('id="customers"'))]
    assert "Bigco" in listed and "Acme" not in listed
    assert "The 1 with the most revenue of 2 customer accounts" in page
    exported = b"".join(client.get("/value/channels/export/scenario.csv", query).streaming_content).decode()
    assert "customer: Bigco" in exported and "customer: Acme" in exported
