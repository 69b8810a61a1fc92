"""Value → Downloads: the page, its CSV, its API, and the lead's package and fetch actions."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from townsquare.core.roles import Role
from townsquare.metrics.downloads.base import CumulativeTotal, DailyCounts
from townsquare.metrics.models import DownloadFetchRun, TrackedPackage
from townsquare.metrics.services import downloads as services
from townsquare.sources.tests.factories import IdentityFactory, MessageFactory

pytestmark = [pytest.mark.django_db]

TODAY = timezone.now().astimezone(dt.UTC).date()
THIS_MONTH = TODAY.replace(day=1)
LAST_MONTH = (THIS_MONTH - dt.timedelta(days=1)).replace(day=1)
TWO_AGO = (LAST_MONTH - dt.timedelta(days=1)).replace(day=1)


def days_of(month: dt.date, per_day: int, *, upto: int | None = None) -> dict[dt.date, int]:
    out, day = {}, month
    while day.month == month.month and day < TODAY and (upto is None or day.day <= upto):
        out[day] = per_day
        day += dt.timedelta(days=1)
    return out


def tracked(registry: str, name: str, label: str = "") -> TrackedPackage:
    return services.package_add(registry=registry, name=name, label=label)


@pytest.fixture
def figures(db: None) -> dict[str, TrackedPackage]:
    """PyPI: two months ago complete, last month only 10 days (a partial month); Docker: counting began last month."""
    pypi = tracked("pypi", "acme-cloud", "Acme SDK")
    counts = {**days_of(TWO_AGO, 100), **days_of(LAST_MONTH, 50, upto=10)}
    services.package_store(package=pypi, result=DailyCounts(days=counts), today=TODAY)
    docker = tracked("docker", "acme/cloud-agent")
    services.package_store(package=docker, result=CumulativeTotal(total=5000), today=LAST_MONTH + dt.timedelta(days=3))
    last_day = THIS_MONTH - dt.timedelta(days=1)
    services.package_store(package=docker, result=CumulativeTotal(total=5600), today=last_day)
    return {"pypi": pypi, "docker": docker}


def community(month: dt.date, count: int) -> None:
    at = dt.datetime.combine(month + dt.timedelta(days=2), dt.time(12), tzinfo=dt.UTC)
    for i in range(count):
        MessageFactory(created_at=at + dt.timedelta(minutes=i))


def page(client, user) -> str:
    client.force_login(user)
    response = client.get("/value/downloads/")
    assert response.status_code == 200
    return response.content.decode()


def test_readers_see_an_honest_empty_state(client, make_user) -> None:
    html = page(client, make_user(Role.EXECUTIVE))
    assert "No packages tracked" in html and "The DevRel lead has not added any package yet" in html
    assert "Track a package" not in html and "Fetch now</button>" not in html


def test_the_lead_sees_the_form_and_fetch_button_on_an_empty_page(client, make_user) -> None:
    html = page(client, make_user(Role.DEVREL_LEAD))
    assert "Add the product" in html and "Track a package" in html and "Fetch now</button>" in html


def test_months_per_package_and_in_total_beside_community_activity(client, make_user, figures) -> None:
    community(TWO_AGO, 3)
    community(LAST_MONTH, 2)
    staff = IdentityFactory()
    staff.member.is_staff = True
    staff.member.save()
    MessageFactory(author=staff, created_at=dt.datetime.combine(LAST_MONTH, dt.time(9), tzinfo=dt.UTC))
    MessageFactory(
        author=IdentityFactory(is_bot=True), created_at=dt.datetime.combine(LAST_MONTH, dt.time(9), tzinfo=dt.UTC)
    )
    MessageFactory(author=None, created_at=dt.datetime.combine(LAST_MONTH, dt.time(9), tzinfo=dt.UTC))
    services.community_activity_recompute(today=TODAY)
    html = page(client, make_user(Role.EXECUTIVE))
    two_ago_total = 100 * len(days_of(TWO_AGO, 1))
    assert f"{two_ago_total:,}" in html
    assert "10 of" in html and "days reported" in html  # last month's PyPI figure is partial, and says why
    assert "counting began on" in html and "not a monthly figure" in html
    assert '<svg width="100%" role="img"' in html and "Figures as a table" in html
    assert "Pulls added per calendar month to Docker Hub" in html
    assert "Track a package" not in html  # executives read, the lead manages
    overview = client.get("/api/v1/value/downloads/").json()
    community_by_month = {c["month"]: c["messages"] for c in overview["community"]}
    assert community_by_month[f"{TWO_AGO:%Y-%m}"] == 3
    assert community_by_month[f"{LAST_MONTH:%Y-%m}"] == 2  # staff, bot and unknown authors are not community


def test_the_api_gives_gaps_as_null_and_says_what_each_series_is(client, make_user, figures) -> None:
    client.force_login(make_user(Role.DEVREL_MEMBER))
    data = client.get("/api/v1/value/downloads/?months=12").json()
    assert data["months"][-1] == f"{THIS_MONTH:%Y-%m}" and len(data["months"]) <= 12
    by_name = {p["name"]: p for p in data["packages"]}
    docker = {m["month"]: m for m in by_name["acme/cloud-agent"]["months"]}
    assert docker[f"{LAST_MONTH:%Y-%m}"]["downloads"] is None  # the month counting began
    assert by_name["acme/cloud-agent"]["cumulative"] is True
    assert "calendar month" in by_name["acme-cloud"]["series_label"]
    pypi = {m["month"]: m for m in by_name["acme-cloud"]["months"]}
    assert pypi[f"{TWO_AGO:%Y-%m}"]["complete"] is True
    assert pypi[f"{LAST_MONTH:%Y-%m}"] | {"note": ""} == {
        "month": f"{LAST_MONTH:%Y-%m}", "downloads": 500, "complete": False, "note": ""
    }  # fmt: skip
    total = {t["month"]: t for t in data["total"]}
    assert total[f"{LAST_MONTH:%Y-%m}"] == {
        "month": f"{LAST_MONTH:%Y-%m}", "downloads": 500, "complete": False, "missing": ["acme/cloud-agent"]
    }  # fmt: skip
    assert client.get("/api/v1/value/downloads/?months=soon").status_code == 400


def test_stakeholders_may_not_read_downloads(client, make_user) -> None:
    client.force_login(make_user(Role.STAKEHOLDER_MEMBER))
    assert client.get("/value/downloads/").status_code == 403
    assert client.get("/value/downloads/export.csv").status_code == 403
    assert client.get("/api/v1/value/downloads/").status_code == 403


def test_the_schema_documents_the_downloads_endpoint(client, make_user) -> None:
    client.force_login(make_user(Role.ADMIN))
    schema = client.get("/api/schema/?format=json").json()
    assert "/api/v1/value/downloads/" in schema["paths"]


def test_the_csv_has_the_monthly_table_with_gaps_empty_and_formulas_neutralised(client, make_user, figures) -> None:
    services.package_update(package=figures["pypi"], label='=HYPERLINK("http://x")', enabled=True)
    client.force_login(make_user(Role.EXECUTIVE))
    response = client.get("/value/downloads/export.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["Month", "acme/cloud-agent", '\'=HYPERLINK("http://x")']
    last = {row[0]: row for row in rows[1:]}[f"{LAST_MONTH:%Y-%m}"]
    assert last[1:5] == ["", "500", "500", "no"]  # Docker: no monthly figure (a gap, not 0)
    assert "days reported" in last[-1]


def test_community_text_is_escaped_in_the_page_and_the_chart(client, make_user, figures) -> None:
    services.package_update(package=figures["pypi"], label="<script>alert(1)</script>", enabled=True)
    html = page(client, make_user(Role.DEVREL_LEAD))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_page_takes_the_same_queries_whatever_the_number_of_packages(client, make_user, figures) -> None:
    client.force_login(make_user(Role.DEVREL_LEAD))
    client.get("/value/downloads/")
    with CaptureQueriesContext(connection) as few:
        client.get("/value/downloads/")
    for i in range(5):
        package = tracked("npm", f"extra-{i}")
        services.package_store(package=package, result=DailyCounts(days=days_of(TWO_AGO, i + 1)), today=TODAY)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/value/downloads/")
    assert response.status_code == 200 and "extra-4" in response.content.decode()
    assert len(many) == len(few) <= 12, [q["sql"] for q in many.captured_queries]


def test_the_lead_adds_a_package_and_a_bad_name_is_a_form_error(client, make_user) -> None:
    client.force_login(make_user(Role.DEVREL_LEAD))
    response = client.post(
        "/value/downloads/packages/", {"registry": "npm", "name": "@acme/cloud-sdk", "label": "JS SDK"}
    )
    assert response.status_code == 302
    assert TrackedPackage.objects.get().display_name == "JS SDK"
    refused = client.post("/value/downloads/packages/", {"registry": "npm", "name": "Not A Name"})
    assert refused.status_code == 400 and "an npm package name is lower case" in refused.content.decode()
    again = client.post("/value/downloads/packages/", {"registry": "npm", "name": "@acme/cloud-sdk"})
    assert again.status_code == 400 and "@acme/cloud-sdk is already tracked" in again.content.decode()
    assert TrackedPackage.objects.count() == 1


def test_devrel_members_may_read_but_not_manage(client, make_user, figures) -> None:
    client.force_login(make_user(Role.DEVREL_MEMBER))
    assert client.get("/value/downloads/").status_code == 200
    assert client.post("/value/downloads/packages/", {"registry": "pypi", "name": "x"}).status_code == 403
    assert client.post("/value/downloads/fetch/").status_code == 403
    assert client.post(f"/value/downloads/packages/{figures['pypi'].pk}/remove/").status_code == 403
    assert TrackedPackage.objects.count() == 2


def test_fetch_now_queues_one_run_and_enqueues_the_task_after_commit(
    client, make_user, django_capture_on_commit_callbacks
) -> None:
    from django_tasks_db.models import DBTaskResult

    lead = make_user(Role.DEVREL_LEAD)
    client.force_login(lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/value/downloads/fetch/")
    assert response.status_code == 302
    run = DownloadFetchRun.objects.get()
    assert (run.status, run.trigger, run.requested_by) == ("queued", "manual", lead)
    task = DBTaskResult.objects.get()
    assert task.task_path == "townsquare.metrics.tasks.fetch_downloads_task" and task.args_kwargs["args"] == [run.pk]
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/value/downloads/fetch/")  # a second click while it is queued adds nothing
    assert (DownloadFetchRun.objects.count(), DBTaskResult.objects.count()) == (1, 1)
    html = client.get("/value/downloads/").content.decode()
    assert "Queued" in html and 'hx-trigger="every 5s"' in html
    fragment = client.get("/value/downloads/?part=status", headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<section class="panel" id="fetch-status"') and "<html" not in fragment


def test_last_fetch_errors_are_listed_with_the_package_and_the_reason(client, make_user, figures) -> None:
    run = DownloadFetchRun.objects.create(status=DownloadFetchRun.Status.PARTIAL, finished_at=timezone.now())
    run.errors.create(package=figures["pypi"], package_name="PyPI acme-cloud", reason="the registry failed (HTTP 503)", permanent=False)  # fmt: skip
    html = page(client, make_user(Role.EXECUTIVE))
    assert "Finished with errors" in html and "PyPI acme-cloud" in html and "the registry failed (HTTP 503)" in html
    assert "next fetch may succeed" in html and "Stored months of these packages were kept" in html


def test_pausing_keeps_figures_and_removing_drops_them(client, make_user, figures) -> None:
    client.force_login(make_user(Role.DEVREL_LEAD))
    pypi = figures["pypi"]
    client.post(f"/value/downloads/packages/{pypi.pk}/", {"label": "Acme SDK"})
    pypi.refresh_from_db()
    assert pypi.enabled is False and pypi.months.exists()
    assert "paused" in client.get("/value/downloads/").content.decode()
    client.post(f"/value/downloads/packages/{pypi.pk}/", {"label": "Acme SDK", "enabled": "on"})
    pypi.refresh_from_db()
    assert pypi.enabled is True
    client.post(f"/value/downloads/packages/{pypi.pk}/remove/")
    assert not TrackedPackage.objects.filter(pk=pypi.pk).exists()
    assert client.post("/value/downloads/packages/999999/remove/").status_code == 404
