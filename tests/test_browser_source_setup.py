"""Issue 21, done when: a Discord source is added through its form (no JSON typed), synced from the replay
server of the connector tests, and a message with a resolved mention shows on its author's member page.

The replay server answers with the recorded Discord API shapes of ``sources/tests/fixtures/discord``: a 429
first, a channel the bot cannot read (403), a forum whose archived thread answers HTML. The run records those
with the channel named and keeps what it read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from townsquare.core.roles import Role
from townsquare.people.models import Identity
from townsquare.sources.models import Source, SyncRun
from townsquare.sources.tests.replay import ReplayServer
from townsquare.sources.tests.test_discord_live import GUILD, discord_server

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
IMMEDIATE = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "QUEUES": ["default", "notify", "ingest", "feedback"],
    }
}


@pytest.fixture
def discord_api() -> Iterator[ReplayServer]:
    server = ReplayServer()
    discord_server(server)
    try:
        yield server
    finally:
        server.close()


def test_a_discord_source_is_added_through_its_form_synced_and_its_mention_shown(
    web: Any, make_user: Any, discord_api: ReplayServer, settings: Any
) -> None:
    settings.TASKS = IMMEDIATE  # "Sync now" runs the sync inside the request, as a worker would
    make_user(Role.DEVREL_LEAD, username="dana", team="DevRel", is_lead=True, full_name="Dana Okafor")
    web.login("dana")
    page = web.page
    web.goto("/listen/sources/add/")
    assert page.locator("#source-setup form").count() == 0  # the kind comes first
    web.screenshot("source-add-kind")
    page.select_option("#id_kind", "discord")  # HTMX swaps in Discord's own fields
    page.wait_for_selector("#id_guild_id")
    assert "/listen/sources/add/?kind=discord" in page.url
    assert page.locator("textarea").count() == 0
    page.fill("#id_name", "Acme Discord")
    page.fill("#id_guild_id", GUILD)
    page.fill("#id_secret_token", "bot-secret")
    page.check("input[name=schedule_every][value=daily]")
    page.locator("summary", has_text="Advanced settings").click()
    page.fill("#id_api_url", discord_api.base)
    page.evaluate("window.scrollTo(0, 0)")  # the sticky header stays on top in a full-page shot
    web.screenshot("source-add-discord")
    page.click("button[name=test]")
    assert "Discord server Acme Community: 3 readable channels" in page.locator(".check-ok").inner_text()
    assert "bot-secret" not in page.content()
    page.fill("#id_secret_token", "bot-secret")  # a password box is never filled back
    page.click("button[name=save]")
    page.wait_for_selector("text=Source saved.")
    source = Source.objects.get(name="Acme Discord")
    assert source.config == {"guild_id": GUILD, "api_url": discord_api.base} and source.schedule == "0 6 * * *"

    page.click("button:has-text('Sync now')")
    page.wait_for_url("**/listen/runs/**")
    run = SyncRun.objects.get(source=source)
    assert run.status == SyncRun.Status.PARTIAL and run.new >= 2
    errors = page.locator("#errors + table").inner_text()
    assert "#staff-only" in errors and "the bot cannot read this channel (HTTP 403 Missing Access)" in errors
    assert "#Old question" in errors and "the answer is not JSON (a malformed page)" in errors

    bo = Identity.objects.get(realm__startswith="discord", handle="bo_park")
    web.goto(f"/people/members/{bo.member_id}/")
    page.wait_for_selector("#member-messages .message, #member-messages li, #member-messages article")
    messages = page.locator("#member-messages").inner_text()
    assert "@Ana Lima thanks, that fixed it" in messages and "<@111111111111111111>" not in messages
    web.screenshot("source-discord-member-mention")

    web.goto(f"/listen/sources/{source.pk}/edit/")
    assert page.locator("#id_guild_id").input_value() == GUILD
    assert page.locator("#id_secret_token").get_attribute("placeholder") == "stored: leave blank to keep it"
    assert page.locator("#id_secret_token").input_value() == ""
    web.screenshot("source-edit-discord")
    assert web.console_errors == []


def test_an_upload_says_which_kind_it_recognised(web: Any, make_user: Any, settings: Any) -> None:
    from townsquare.sources.tests.helpers import DATA

    settings.TASKS = IMMEDIATE
    make_user(Role.DEVREL_MEMBER, username="ari", team="DevRel")
    web.login("ari")
    page = web.page
    web.goto("/listen/upload/")
    page.fill("#id_name", "Houston DataVis Slack")
    page.set_input_files("#id_archive", str(DATA / "slack/houstondatavis-slack-export-2016-07-31.zip"))
    web.screenshot("source-upload")
    page.click("button:has-text('Upload and import')")
    page.wait_for_url("**/listen/runs/**")  # the import ran inside the upload's request: the run is over
    text = page.locator("main").inner_text()
    assert "Recognised Slack workspace export (zip) from its content" in text and "Succeeded" in text
    assert Source.objects.get(name="Houston DataVis Slack").kind == "slack_export"
    assert "Feedback themes" in text and "Process now" in text
    web.screenshot("source-upload-run")
    assert web.console_errors == []
