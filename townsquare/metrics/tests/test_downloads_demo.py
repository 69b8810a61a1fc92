from __future__ import annotations

import datetime as dt

import pytest

from townsquare.core.roles import Role
from townsquare.metrics.demo import downloads_demo_load
from townsquare.metrics.models import PackageMonth, PackageSnapshot, TrackedPackage
from townsquare.metrics.selectors.downloads import downloads_overview

pytestmark = pytest.mark.django_db


def test_the_demo_replays_a_year_of_acme_cloud_downloads_once(client, make_user) -> None:
    today = dt.date(2026, 12, 4)
    counts = downloads_demo_load(today=today)
    assert counts["downloads packages"] == 4 and counts["downloads months"] >= 48
    assert downloads_demo_load(today=today) == counts  # loading twice changes nothing
    assert set(TrackedPackage.objects.values_list("is_demo", flat=True)) == {True}
    overview = downloads_overview(months=24, today=today)
    by_registry = {s.package.registry: s for s in overview.series}
    pypi = [f for f in by_registry["pypi"].figures if f.tracked]
    assert len(pypi) >= 12
    # pypistats keeps 180 days, but the two recorded answers together give the whole year.
    assert all(f.downloads for f in pypi[1:-1]) and all(f.complete for f in pypi[1:-1])
    assert pypi[-1].complete is False  # this month is still going
    docker = [f for f in by_registry["docker"].figures if f.tracked]
    assert docker[0].downloads is None and "counting began" in docker[0].note
    assert all(f.downloads and f.complete for f in docker[1:-1])
    assert PackageSnapshot.objects.filter(package__registry="docker").latest(
        "taken_on"
    ).taken_on == today - dt.timedelta(days=1)
    assert PackageMonth.objects.filter(package__registry="github", downloads__isnull=False).count() >= 11
    client.force_login(make_user(Role.EXECUTIVE))
    html = client.get("/value/downloads/").content.decode()
    assert "Demo data" in html and "Acme Cloud CLI releases (demo)" in html
