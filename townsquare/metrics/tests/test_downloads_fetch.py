"""Fetching downloads against a local server replaying the registries' recorded answers."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from townsquare.core.errors import TownsquareError
from townsquare.metrics.downloads import github, npm
from townsquare.metrics.downloads.base import retry_after_seconds
from townsquare.metrics.models import DownloadFetchRun, PackageDay, PackageMonth, PackageSnapshot, TrackedPackage
from townsquare.metrics.services import downloads as services
from townsquare.metrics.tests.conftest import fixture_json, fixture_text
from townsquare.sources.tests.replay import Reply

pytestmark = pytest.mark.django_db

PYPI_PATH = "/api/packages/acme-cloud/overall"
NPM_FULL = "/downloads/range/2023-11-01:2025-04-30/@acme/cloud-sdk"
NPM_MAY = "/downloads/range/2025-05-01:2025-05-19/@acme/cloud-sdk"
DOCKER_PATH = "/v2/repositories/acme/cloud-agent/"
GITHUB_PATH = "/repos/acme/cloud-cli/releases"


def add(registry: str, name: str) -> TrackedPackage:
    return services.package_add(registry=registry, name=name)


def fetch(today: dt.date, *packages: TrackedPackage) -> DownloadFetchRun:
    run, _ = services.fetch_run_request(trigger=DownloadFetchRun.Trigger.MANUAL)
    return services.downloads_fetch(run=run, packages=packages or None, today=today)


def months(package: TrackedPackage) -> dict[str, tuple[int | None, bool]]:
    return {f"{m.month:%Y-%m}": (m.downloads, m.complete) for m in package.months.order_by("month")}


def pypi_sum(fixture: str, month: str) -> int:
    return sum(r["downloads"] for r in fixture_json(fixture)["data"] if r["date"].startswith(month))


# ---------------------------------------------------------------- PyPI


def test_pypi_days_are_summed_into_calendar_months_without_mirrors(registry) -> None:
    registry.add(PYPI_PATH + "?mirrors=false", Reply(fixture_text("pypi/overall__ok.json")))
    package = add("pypi", "Acme_Cloud")
    assert package.name == "acme-cloud"  # PEP 503 normalised
    run = fetch(dt.date(2025, 4, 10), package)
    assert run.status == DownloadFetchRun.Status.SUCCEEDED
    assert registry.requests[0][1] == {"mirrors": ["false"]}
    assert months(package) == {
        "2025-01": (pypi_sum("pypi/overall__ok.json", "2025-01"), True),
        "2025-02": (pypi_sum("pypi/overall__ok.json", "2025-02"), True),
        "2025-03": (pypi_sum("pypi/overall__ok.json", "2025-03"), True),
        "2025-04": (None, False),  # in progress and nothing reported yet: a gap, not a zero
    }


def test_pypi_keeps_months_older_than_its_180_day_window(registry) -> None:
    package = add("pypi", "acme-cloud")
    registry.add(PYPI_PATH, Reply(fixture_text("pypi/overall__ok.json")))
    fetch(dt.date(2025, 4, 1), package)
    january = months(package)["2025-01"]
    # Months later pypistats no longer has January, and only half of February.
    registry.replace(PYPI_PATH, Reply(fixture_text("pypi/overall__later_window.json")))
    fetch(dt.date(2025, 5, 1), package)
    after = months(package)
    assert after["2025-01"] == january
    # February: the first fetch's days 1-14 and the second's days 15-28 (which win where they overlap).
    first = {r["date"]: r["downloads"] for r in fixture_json("pypi/overall__ok.json")["data"]}
    second = {r["date"]: r["downloads"] for r in fixture_json("pypi/overall__later_window.json")["data"]}
    february = {**{d: n for d, n in first.items() if d.startswith("2025-02")}, **second}
    assert after["2025-02"] == (sum(n for d, n in february.items() if d.startswith("2025-02")), True)
    assert after["2025-04"] == (pypi_sum("pypi/overall__later_window.json", "2025-04"), True)


def test_fetching_the_same_days_twice_stores_the_same_months(registry) -> None:
    registry.add(PYPI_PATH, Reply(fixture_text("pypi/overall__ok.json")))
    package = add("pypi", "acme-cloud")
    fetch(dt.date(2025, 4, 1), package)
    before = (months(package), PackageDay.objects.count(), PackageMonth.objects.count())
    fetch(dt.date(2025, 4, 1), package)
    assert (months(package), PackageDay.objects.count(), PackageMonth.objects.count()) == before


def test_a_month_in_progress_is_partial(registry) -> None:
    registry.add(PYPI_PATH, Reply(fixture_text("pypi/overall__ok.json")))
    package = add("pypi", "acme-cloud")
    fetch(dt.date(2025, 3, 20), package)  # the answer's days from the 20th on are dropped: not over yet
    march = package.months.get(month=dt.date(2025, 3, 1))
    assert (march.complete, march.days_counted, march.note) == (False, 19, "month in progress")
    assert march.downloads == sum(
        r["downloads"]
        for r in fixture_json("pypi/overall__ok.json")["data"]
        if "2025-03-01" <= r["date"] < "2025-03-20"
    )


# ---------------------------------------------------------------- bad answers


@pytest.mark.parametrize(
    ("reply", "reason", "permanent"),
    [
        (Reply("<!doctype html><title>404 Not Found</title>", 404), "PyPI package acme-cloud is not known", True),
        (Reply('{"message": "oops"}', 500), "the registry failed (HTTP 500)", False),
        (Reply('{"data": [{"category": "without_mirrors", "date": "2025-', 200), "answer is not JSON", False),
        (Reply('{"data": [{"date": "soon", "downloads": "many"}]}', 200), "unexpected answer from the registry", False),
        (Reply(fixture_text("pypi/overall__empty.json")), "returned no days of data", False),
        (Reply('{"error": "slow down"}', 429, {"Retry-After": "3600"}), "rate limited", False),
    ],
    ids=["not-found", "server-error", "truncated-json", "wrong-shape", "empty", "429-too-long"],
)
def test_a_bad_answer_is_recorded_and_stored_months_are_kept(registry, reply, reason, permanent) -> None:
    package = add("pypi", "acme-cloud")
    registry.add(PYPI_PATH, Reply(fixture_text("pypi/overall__ok.json")))
    fetch(dt.date(2025, 4, 1), package)
    stored = months(package)
    registry.replace(PYPI_PATH, reply)
    run = fetch(dt.date(2025, 4, 2), package)
    assert run.status == DownloadFetchRun.Status.FAILED
    error = run.errors.get()
    assert reason in error.reason and "acme-cloud" in error.reason
    assert (error.package, error.permanent) == (package, permanent)
    assert months(package) == stored
    package.refresh_from_db()
    assert reason in package.last_error


def test_other_packages_still_fetch_when_one_fails(registry) -> None:
    registry.add("/v2/repositories/acme/nope/", Reply(fixture_text("docker/repository__not_found.json"), 404))
    registry.add(DOCKER_PATH, Reply(fixture_text("docker/repository__ok.json")))
    registry.add(PYPI_PATH, Reply('{"error": "boom"}', 503))
    missing, docker_pkg, pypi_pkg = (
        add("docker", "acme/nope"),
        add("docker", "acme/cloud-agent"),
        add("pypi", "acme-cloud"),
    )
    run = fetch(dt.date(2025, 5, 19))
    assert (run.status, run.packages_fetched, run.packages_failed) == (DownloadFetchRun.Status.PARTIAL, 1, 2)
    reasons = {e.package_id: e.reason for e in run.errors.all()}
    assert reasons[missing.pk] == "Docker Hub image acme/nope does not exist on Docker Hub (HTTP 404)"
    assert reasons[pypi_pkg.pk] == "PyPI package acme-cloud: the registry failed (HTTP 503)"
    assert PackageSnapshot.objects.get(package=docker_pkg).total == 184233


def test_a_429_with_a_short_retry_after_is_waited_out(registry) -> None:
    registry.add(
        PYPI_PATH,
        Reply('{"error": "rate limited"}', 429, {"Retry-After": "1"}),
        Reply(fixture_text("pypi/overall__ok.json")),
    )
    package = add("pypi", "acme-cloud")
    run = fetch(dt.date(2025, 4, 1), package)
    assert run.status == DownloadFetchRun.Status.SUCCEEDED
    first, second = registry.log[0].at, registry.log[1].at
    assert second - first >= 0.9
    assert months(package)["2025-03"][1] is True


def test_a_second_429_is_recorded_not_waited_for_again(registry) -> None:
    registry.add(PYPI_PATH, Reply("{}", 429, {"Retry-After": "1"}))
    package = add("pypi", "acme-cloud")
    started = time.monotonic()
    run = fetch(dt.date(2025, 4, 1), package)
    assert time.monotonic() - started < 4
    assert (
        run.errors.get().reason
        == "PyPI package acme-cloud: rate limited by the registry (HTTP 429); it asked to wait 1 s"
    )
    assert len(registry.log) == 2


def test_retry_after_may_be_an_http_date() -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    assert 25 <= retry_after_seconds(later.strftime("%a, %d %b %Y %H:%M:%S GMT")) <= 30
    assert retry_after_seconds("soon") is None


def test_a_registry_that_hangs_is_a_timeout_error(registry, settings) -> None:
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection, never answers
    settings.DOWNLOADS_PYPI_URL = f"http://127.0.0.1:{listener.getsockname()[1]}"
    settings.DOWNLOADS_TIMEOUT_SECONDS = 1
    try:
        run = fetch(dt.date(2025, 4, 1), add("pypi", "acme-cloud"))
    finally:
        listener.close()
    error = run.errors.get()
    assert (error.reason, error.permanent) == (
        "PyPI package acme-cloud: the registry did not answer within the timeout",
        False,
    )


# ---------------------------------------------------------------- npm


def test_npm_backfills_in_chunks_of_at_most_18_months(settings) -> None:
    chunks = npm.chunks(dt.date(2022, 1, 1), dt.date(2025, 5, 19))
    assert chunks[0] == (dt.date(2022, 1, 1), dt.date(2023, 6, 30))
    assert chunks[1][0] == dt.date(2023, 7, 1) and chunks[-1][1] == dt.date(2025, 5, 19)
    for first, last in chunks:
        assert (last.year * 12 + last.month) - (first.year * 12 + first.month) < 18


def test_npm_scoped_package_backfills_then_fetches_only_recent_days(registry, settings) -> None:
    settings.DOWNLOADS_BACKFILL_MONTHS = 18
    registry.add(NPM_FULL, Reply(fixture_text("npm/range__2023-11-01_2025-04-30.json")))
    registry.add(NPM_MAY, Reply(fixture_text("npm/range__2025-05-01_2025-05-19.json")))
    package = add("npm", "@acme/cloud-sdk")
    run = fetch(dt.date(2025, 5, 20), package)
    assert run.status == DownloadFetchRun.Status.SUCCEEDED, list(run.errors.values_list("reason", flat=True))
    assert registry.paths() == [NPM_FULL, NPM_MAY]
    stored = months(package)
    assert min(stored) == "2023-11" and stored["2025-04"][1] is True
    assert stored["2025-05"] == (
        sum(r["downloads"] for r in fixture_json("npm/range__2025-05-01_2025-05-19.json")["downloads"]),
        False,
    )
    # The next day only the last week is asked for again.
    recent = "/downloads/range/2025-05-12:2025-05-20/@acme/cloud-sdk"
    body = {"start": "2025-05-12", "end": "2025-05-20", "package": "@acme/cloud-sdk",
            "downloads": [{"day": f"2025-05-{d:02d}", "downloads": 1000} for d in range(12, 21)]}  # fmt: skip
    registry.add(recent, Reply(json.dumps(body)))
    fetch(dt.date(2025, 5, 21), package)
    assert registry.paths()[-1] == recent
    assert PackageDay.objects.get(package=package, day=dt.date(2025, 5, 20)).downloads == 1000


def test_npm_package_that_does_not_exist_is_a_permanent_error(registry) -> None:
    registry.fallback("/downloads/range/", Reply(fixture_text("npm/range__not_found.json"), 404))
    run = fetch(dt.date(2025, 5, 20), add("npm", "@acme/nope"))
    error = run.errors.get()
    assert (error.reason, error.permanent) == ("npm package @acme/nope does not exist on npm (HTTP 404)", True)


def test_npm_days_before_a_package_existed_are_not_zeros(registry, settings) -> None:
    settings.DOWNLOADS_BACKFILL_MONTHS = 3
    days = [{"day": f"2025-0{m}-{d:02d}", "downloads": 0 if m < 4 else 5} for m in (2, 3, 4) for d in range(1, 29)]
    registry.fallback("/downloads/range/", Reply(json.dumps({"downloads": days})))
    package = add("npm", "fresh-pkg")
    fetch(dt.date(2025, 5, 1), package)
    assert min(months(package)) == "2025-04"


# ---------------------------------------------------------------- cumulative registries


def test_docker_pulls_become_monthly_increases_since_counting_began(registry) -> None:
    package = add("docker", "acme/cloud-agent")
    body = fixture_json("docker/repository__ok.json")
    readings = [
        ("2025-03-14", 1000),
        ("2025-03-31", 1500),
        ("2025-04-30", 2300),
        ("2025-05-31", 3400),
        ("2025-06-01", 3450),
    ]
    for day, pulls in readings:
        registry.replace(DOCKER_PATH, Reply(json.dumps({**body, "pull_count": pulls})))
        fetch(dt.date.fromisoformat(day), package)
    package.refresh_from_db()
    assert package.counting_since == dt.date(2025, 3, 14)
    assert "since counting began on 2025-03-14" in package.series_label
    assert months(package) == {
        "2025-03": (None, False),
        "2025-04": (800, True),
        "2025-05": (1100, True),
        "2025-06": (50, False),  # in progress
    }
    march = package.months.get(month=dt.date(2025, 3, 1))
    assert march.note == "counting began on 2025-03-14 at 1,000 all-time; +500 by 2025-03-31, not a monthly figure"


def test_a_month_without_readings_is_a_gap_and_a_falling_total_gives_no_figure(registry) -> None:
    package = add("github", "acme/cloud-cli")
    readings = [("2025-01-31", 100), ("2025-02-28", 150), ("2025-04-30", 400), ("2025-05-31", 350)]
    for day, count in readings:
        registry.replace(GITHUB_PATH, Reply(json.dumps([{"assets": [{"download_count": count}]}])))
        fetch(dt.date.fromisoformat(day), package)
    got = {m.month.month: (m.downloads, m.note) for m in package.months.all()}
    assert got[2] == (50, "")
    assert got[3][0] is None and got[3][1] == "no reading this month"
    assert got[4][0] is None and "no reading near the end of the previous month" in got[4][1]
    assert got[5] == (None, "the all-time total fell from 400 to 350 (deleted files?)")


def test_github_releases_are_summed_across_pages_with_the_token_sent_only_to_github(registry, settings) -> None:
    settings.DOWNLOADS_GITHUB_TOKEN = "ghp_secret_token_value"
    registry.add(
        GITHUB_PATH + "?page=2",
        Reply(fixture_text("github/releases__page2.json")),
    )
    registry.add(
        GITHUB_PATH,
        Reply(fixture_text("github/releases__page1.json"), headers={"Link": f'<{{base}}{GITHUB_PATH}?per_page=100&page=2>; rel="next", <{{base}}{GITHUB_PATH}?per_page=100&page=2>; rel="last"'}),
    )  # fmt: skip
    package = add("github", "https://github.com/acme/cloud-cli")
    assert package.name == "acme/cloud-cli"
    run = fetch(dt.date(2025, 5, 19), package)
    assert run.status == DownloadFetchRun.Status.SUCCEEDED
    assert PackageSnapshot.objects.get(package=package).total == 1200 + 800 + 3000 + 4000 + 50
    assert [r.query.get("page") for r in registry.log] == [None, ["2"]]
    assert all(r.headers["Authorization"] == "Bearer ghp_secret_token_value" for r in registry.log)
    assert "ghp_secret" not in package.series_label + package.last_error


def test_a_next_link_to_another_host_is_refused(registry, settings) -> None:
    settings.DOWNLOADS_GITHUB_TOKEN = "ghp_secret_token_value"
    registry.add(GITHUB_PATH, Reply("[]", headers={"Link": '<https://evil.example/steal?page=2>; rel="next"'}))
    run = fetch(dt.date(2025, 5, 19), add("github", "acme/cloud-cli"))
    assert "points outside the GitHub API" in run.errors.get().reason
    assert len(registry.log) == 1


def test_github_repository_that_does_not_exist(registry) -> None:
    registry.add("/repos/acme/nope/releases", Reply(fixture_text("github/not_found.json"), 404))
    run = fetch(dt.date(2025, 5, 19), add("github", "acme/nope"))
    assert run.errors.get().reason == "GitHub repository acme/nope does not exist on GitHub (HTTP 404)"
    assert github.name_clean("acme/cloud-cli") == "acme/cloud-cli"


# ---------------------------------------------------------------- packages and runs


@pytest.mark.parametrize(
    ("registry_name", "name"),
    [("pypi", "bad name!"), ("npm", "Upper/Case"), ("docker", "a/b/c"), ("github", "../etc"), ("github", "owner")],
)
def test_bad_coordinates_are_refused(registry_name, name) -> None:
    with pytest.raises(TownsquareError) as caught:
        services.package_add(registry=registry_name, name=name)
    assert caught.value.record == "name"


def test_a_package_is_tracked_once_and_docker_official_images_get_their_namespace() -> None:
    assert services.package_add(registry="docker", name="redis").name == "library/redis"
    with pytest.raises(TownsquareError, match="already tracked"):
        services.package_add(registry="docker", name="library/redis")


def test_a_queued_run_is_fetched_once_even_if_delivered_twice(registry) -> None:
    registry.add(DOCKER_PATH, Reply(fixture_text("docker/repository__ok.json")))
    add("docker", "acme/cloud-agent")
    run, created = services.fetch_run_request()
    again, created_again = services.fetch_run_request()
    assert created and not created_again and again == run
    services.downloads_fetch(run=run, today=dt.date(2025, 5, 19))
    services.downloads_fetch(run=run, today=dt.date(2025, 5, 19))
    assert len(registry.log) == 1


def test_scheduled_fetches_skip_paused_and_demo_packages(registry) -> None:
    registry.add(DOCKER_PATH, Reply(fixture_text("docker/repository__ok.json")))
    add("docker", "acme/cloud-agent")
    paused = add("pypi", "paused-pkg")
    services.package_update(package=paused, label="", enabled=False)
    services.package_add(registry="npm", name="demo-pkg", is_demo=True)
    run = services.downloads_fetch(today=dt.date(2025, 5, 19))
    assert (run.trigger, run.status, run.packages_fetched) == ("schedule", "succeeded", 1)
    assert registry.paths() == [DOCKER_PATH]


def test_the_task_runs_a_queued_fetch_and_the_schedule_is_daily(registry) -> None:
    from townsquare.core.scheduling import registered_jobs
    from townsquare.metrics.tasks import fetch_downloads_task

    registry.add(DOCKER_PATH, Reply(fixture_text("docker/repository__ok.json")))
    add("docker", "acme/cloud-agent")
    run, _ = services.fetch_run_request()
    assert fetch_downloads_task.call(run.pk) == "succeeded"
    assert fetch_downloads_task.call(999999) == "missing"
    job = registered_jobs()["metrics-fetch-downloads"]
    assert (job.cron, job.task_path) == ("17 6 * * *", "townsquare.metrics.tasks.fetch_downloads_task")
