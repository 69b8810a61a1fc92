"""Pages, API and commands of the Listen loop."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from townsquare.sources.models import Message, Source, SyncRun
from townsquare.sources.tests.factories import MessageFactory, SourceFactory, SyncRunFactory
from townsquare.sources.tests.helpers import DATA, FIXTURES

pytestmark = pytest.mark.django_db
IMMEDIATE = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "QUEUES": ["default", "notify", "ingest", "feedback"],
    }
}


def test_the_sources_list_shows_health_in_a_fixed_number_of_queries(client_for: Any) -> None:
    client = client_for("devrel_member")
    for n in range(5):
        source = SourceFactory(schedule="0 * * * *" if n % 2 else "")
        SyncRunFactory(source=source, new=n, rejected=1)
        MessageFactory.create_batch(2, source=source)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("sources:index"))
    assert response.status_code == 200
    assert len(queries) <= 12
    assert "manual" in response.content.decode()


def test_the_message_page_escapes_text_sanitises_html_and_links_back(client_for: Any) -> None:
    client = client_for("devrel_member")
    message = MessageFactory(
        title="<b>hi</b>",
        body="<script>alert(1)</script>",
        body_html='<p>ok<script>alert(2)</script><img src=x onerror="alert(3)"></p>',
        url="https://discord.com/channels/1/2/3",
    )
    html = client.get(reverse("sources:message", args=[message.pk])).content.decode()
    assert "&lt;b&gt;hi&lt;/b&gt;" in html
    assert "alert(2)" not in html and "onerror" not in html
    assert 'href="https://discord.com/channels/1/2/3"' in html
    listing = client.get(reverse("sources:messages")).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in listing and "<script>alert(1)" not in listing


def test_the_message_list_filters_by_source_kind_and_text(client_for: Any) -> None:
    client = client_for("devrel_member")
    one, two = SourceFactory(), SourceFactory()
    MessageFactory(source=one, body="dark mode please")
    MessageFactory(source=two, body="dark mode too", kind="email")
    MessageFactory(source=two, body="unrelated")
    page = client.get(reverse("sources:messages"), {"q": "dark", "source": two.pk}).context["page"]
    assert [m.body for m in page.object_list] == ["dark mode too"]
    htmx = client.get(reverse("sources:messages"), {"kind": "email"}, headers={"HX-Request": "true"})
    assert "<html" not in htmx.content.decode() and "dark mode too" in htmx.content.decode()


def test_a_source_is_added_and_tested_from_the_form(client_for: Any, settings: Any) -> None:
    settings.SOURCES_IMPORT_DIR = DATA
    client = client_for("devrel_lead")
    data = {
        "name": "Slack export",
        "kind": "slack_export",
        "path": str(DATA / "none.zip"),
        "schedule_every": "",
        "enabled": "on",
    }
    failed = client.post(reverse("sources:source-add"), {**data, "test": "1"})
    assert "Connection test failed" in failed.content.decode() and not Source.objects.exists()
    data["path"] = str(DATA / "slack/houstondatavis-slack-export-2016-07-31.zip")
    passed = client.post(reverse("sources:source-add"), {**data, "test": "1"}, follow=True)
    assert "Connection test passed" in passed.content.decode()
    bad_cron = client.post(
        reverse("sources:source-add"), {**data, "schedule_every": "cron", "schedule_cron": "every day"}
    )
    assert "&#x27;every day&#x27; is not a cron expression" in bad_cron.content.decode()
    saved = client.post(reverse("sources:source-add"), data)
    source = Source.objects.get(name="Slack export")
    assert saved["Location"] == reverse("sources:source", args=[source.pk])
    edit = client.post(
        reverse("sources:source-edit", args=[source.pk]),
        {**data, "name": "Renamed", "path": "", "workspace_url": "https://houstondatavis.slack.com"},
    )
    assert edit.status_code == 302
    source.refresh_from_db()
    assert source.name == "Renamed" and source.config == {"workspace_url": "https://houstondatavis.slack.com"}


def test_an_uploaded_archive_is_imported_in_the_background(
    client_for: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.TASKS = IMMEDIATE
    settings.DATA_DIR = settings.DATA_DIR
    client = client_for("devrel_member")
    archive = FIXTURES / "matrix_export/room__element.json"
    with django_capture_on_commit_callbacks(execute=True), archive.open("rb") as handle:
        response = client.post(
            reverse("sources:upload"), {"kind": "matrix_export", "name": "Matrix room", "archive": handle}
        )
    assert response.status_code == 302
    run = SyncRun.objects.get(source__name="Matrix room")
    assert (run.status, run.new, run.rejected) == ("partial", 4, 1)
    progress = client.get(reverse("sources:run", args=[run.pk]), {"part": "progress"}, headers={"HX-Request": "true"})
    assert (
        "hx-trigger" not in progress.content.decode() and "Finished with rejected records" in progress.content.decode()
    )
    page = client.get(reverse("sources:run", args=[run.pk])).content.decode()
    assert "room__element.json#$bad" in page


def test_a_sync_can_be_queued_from_the_source_page(client_for: Any) -> None:
    client = client_for("devrel_member")
    source = SourceFactory(kind="discord", config={"guild_id": "900000000000000001"})
    response = client.post(reverse("sources:source-sync", args=[source.pk]))
    run = SyncRun.objects.get(source=source)
    assert run.status == SyncRun.Status.QUEUED and response["Location"] == reverse("sources:run", args=[run.pk])
    again = client.post(reverse("sources:source-sync", args=[source.pk]), follow=True)
    assert "already running" in again.content.decode()
    polled = client.get(reverse("sources:run", args=[run.pk]), {"part": "progress"}, headers={"HX-Request": "true"})
    assert 'hx-trigger="every 1s"' in polled.content.decode()


def test_stakeholders_cannot_see_community_sources(client_for: Any) -> None:
    client = client_for("stakeholder_member")
    assert client.get(reverse("sources:index")).status_code == 403
    assert client.get(reverse("sources:messages")).status_code == 403


def test_the_api_lists_sources_runs_and_filtered_messages(client_for: Any) -> None:
    from rest_framework.test import APIClient

    user = client_for("devrel_member").user
    api = APIClient()
    api.force_authenticate(user)
    from townsquare.sources import api as views

    source = SourceFactory(name="Forum")
    SyncRunFactory(source=source, new=3)
    MessageFactory(source=source, body="hello", kind="question")
    MessageFactory(source=source, body="other", kind="answer")
    from django.test import RequestFactory

    request = RequestFactory().get("/", {"source": source.pk, "kind": "question"})
    request.user = user
    response = views.MessageList.as_view()(request)
    assert response.status_code == 200
    assert [m["body"] for m in response.data["results"]] == ["hello"]
    request = RequestFactory().get("/")
    request.user = user
    sources = views.SourceList.as_view()(request)
    assert sources.data["results"][0]["last_run"]["new"] == 3
    bad = RequestFactory().get("/", {"since": "yesterday"})
    bad.user = user
    assert views.MessageList.as_view()(bad).status_code == 400


def test_the_import_command_creates_the_source_and_reports(tmp_path: Path) -> None:
    out = io.StringIO()
    call_command("import", "matrix_export", str(FIXTURES / "matrix_export"), "--name", "Room", stdout=out)
    text = out.getvalue()
    assert "Created source 'Room'" in text and re.search(r"partial\s*│\s*4", text)
    with pytest.raises(CommandError, match="unknown archive kind"):
        call_command("import", "nope", str(tmp_path))
    with pytest.raises(CommandError, match="does not exist"):
        call_command("import", "irc_log", str(tmp_path / "missing"))


def test_the_sync_command_runs_every_enabled_source_and_reports_failures(settings: Any) -> None:
    settings.SOURCES_IMPORT_DIR = FIXTURES
    SourceFactory(name="ok", kind="matrix_export", config={"path": str(FIXTURES / "matrix_export")})
    SourceFactory(name="broken", kind="slack_export", config={"path": str(FIXTURES / "gone.zip")})
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 of 2 source"):
        call_command("sync", stdout=out)
    assert Message.objects.filter(source__name="ok").count() == 4
    with pytest.raises(CommandError, match="unknown source"):
        call_command("sync", "nope")


def test_the_import_command_takes_source_settings_for_links_back(tmp_path: Path) -> None:
    from townsquare.sources.demo import DEMO_DATA

    archive = DEMO_DATA / "slack" / "houstondatavis-slack-export-2016-07-31.zip"
    call_command(
        "import",
        "slack_export",
        str(archive),
        "--name",
        "Meetup",
        "--set",
        "workspace_url=https://houstondatavis.slack.com",
        stdout=io.StringIO(),
    )
    source = Source.objects.get(name="Meetup")
    assert source.config["workspace_url"] == "https://houstondatavis.slack.com"
    urls = list(Message.objects.filter(source=source).values_list("url", flat=True))
    assert len(urls) == 1031 and all(u.startswith("https://houstondatavis.slack.com/archives/C") for u in urls)
    with pytest.raises(CommandError, match="expected SETTING=VALUE"):
        call_command("import", "slack_export", str(archive), "--set", "workspace_url")


def test_the_demo_loads_once(settings: Any) -> None:
    from townsquare.sources.demo import sources_demo_load

    first = sources_demo_load()
    total = Message.objects.count()
    second = sources_demo_load()
    imported = {name: count for name, count in first.items() if name.endswith("(demo)")}
    assert first["Houston DataVis Slack (demo)"] == 1031
    # the real archives, then Acme Cloud's 244 messages written for the demo (demo_data/acme/community.txt)
    assert (
        sum(count for name, count in imported.items() if not name.startswith("Acme")) == 1031 + 540 + 1822 + 4359 + 598
    )
    assert sum(count for name, count in imported.items() if name.startswith("Acme")) == 244
    assert sum(count for name, count in second.items() if name.endswith("(demo)")) == 0
    assert Message.objects.count() == total == sum(imported.values())


def test_the_scheduled_task_enqueues_due_sources(settings: Any, django_capture_on_commit_callbacks: Any) -> None:
    from townsquare.sources.tasks import enqueue_due_syncs_task

    settings.TASKS = IMMEDIATE
    settings.SOURCES_IMPORT_DIR = FIXTURES
    SourceFactory(
        name="due", kind="matrix_export", schedule="*/5 * * * *", config={"path": str(FIXTURES / "matrix_export")}
    )
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_due_syncs_task.call()
    assert SyncRun.objects.get(source__name="due").new == 4


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_user_uploads_an_archive_and_reads_its_messages(web: Any, make_user: Any, settings: Any) -> None:
    settings.TASKS = IMMEDIATE
    make_user("devrel_member", username="dana")
    web.login("dana")
    web.goto(reverse("sources:upload"))
    web.page.select_option("#id_kind", "discord_export")
    web.page.fill("#id_name", "PyScript Discord")
    web.page.set_input_files(
        "#id_archive",
        str(
            DATA
            / "discord/pyscript-discordchatexporter-html/PyScript_General-pyscript-docs_1037014340802453615.html.gz"
        ),
    )
    web.screenshot("sources-upload")
    web.page.click("form.form button[type=submit]")
    web.page.wait_for_selector("text=Succeeded", timeout=20_000)
    web.screenshot("sources-run")
    web.page.click("text=See the messages")
    web.page.wait_for_selector(".message-table")
    assert web.page.locator(".message-table tbody tr").count() == 50
    web.screenshot("sources-messages")
    web.page.locator(".message-table tbody tr a").first.click()
    origin = web.page.locator("a.origin-link")
    assert origin.get_attribute("href").startswith(
        "https://discord.com/channels/972017612454232116/1037014340802453615/"
    )
    web.screenshot("sources-message")
    web.goto(reverse("sources:index"))
    assert "PyScript Discord" in web.page.content()
    web.screenshot("sources-index")
    assert web.console_errors == []
