"""Sources are set up through each kind's own named fields, never a JSON box; edits keep secrets unseen."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.urls import reverse

from townsquare.sources.models import Source
from townsquare.sources.tests.factories import SourceFactory

pytestmark = pytest.mark.django_db
GUILD = "900000000000000001"


def field_names(html: str) -> set[str]:
    return set(re.findall(r'name="(\w+)"', html))


@pytest.mark.parametrize("kind", Source.Kind.values)
def test_every_kind_has_a_form_of_named_fields_and_no_json_box(client_for: Any, kind: str) -> None:
    html = client_for("devrel_member").get(reverse("sources:source-add"), {"kind": kind}).content.decode()
    names = field_names(html)
    assert {"name", "schedule_every", "schedule_cron", "enabled"} <= names
    assert not {"config", "secrets"} & names
    assert "<textarea" not in html or kind in ("discourse_archive", "discourse")  # only id = name lists


def test_a_discord_source_is_saved_from_its_fields(client_for: Any) -> None:
    client = client_for("devrel_lead")
    form = client.get(reverse("sources:source-add"), {"kind": "discord"}).content.decode()
    assert {"guild_id", "channels", "secret_token", "api_url", "nicknames"} <= field_names(form)
    assert "Copy Server ID" in form and "Reset Token" in form  # help text from the connector
    response = client.post(
        reverse("sources:source-add"),
        {
            "kind": "discord",
            "name": "Acme Discord",
            "guild_id": GUILD,
            "channels": "help,  #general, help",
            "secret_token": "bot-secret",
            "nicknames": "on",
            "schedule_every": "daily",
            "enabled": "on",
        },
    )
    source = Source.objects.get(name="Acme Discord")
    assert response["Location"] == reverse("sources:source", args=[source.pk])
    assert source.config == {"guild_id": GUILD, "channels": "help, #general"}
    assert json.loads(source.secrets) == {"token": "bot-secret"} and source.schedule == "0 6 * * *"


def test_bad_values_are_refused_next_to_their_field(client_for: Any) -> None:
    client = client_for("devrel_lead")
    SourceFactory(name="Taken")
    page = client.post(
        reverse("sources:source-add"),
        {
            "kind": "discord",
            "name": "Taken",
            "guild_id": "acme",
            "api_url": "not a url at all",
            "page_size": "-3",
            "schedule_every": "cron",
            "schedule_cron": "",
        },
    ).content.decode()
    assert "A source named &#x27;Taken&#x27; exists already" in page
    assert "A Discord id is a number of 15 to 21 digits" in page
    assert "Enter a valid URL." in page
    assert "Write the cron expression, or pick every hour, day or week." in page
    assert "Bot token" in page and "This field is required." in page  # no token typed on a new source
    matrix = client.post(
        reverse("sources:source-add"),
        {"kind": "matrix", "name": "M", "homeserver": "https://matrix.example.org", "rooms": "community"},
    ).content.decode()
    assert "&#x27;community&#x27;: a room is an alias like #community:example.org" in matrix
    telegram = client.post(
        reverse("sources:source-add"), {"kind": "telegram", "name": "T", "bot": "acme_bot", "chats": "-100123, main"}
    ).content.decode()
    assert "a Telegram chat id is a number" in telegram
    github = client.post(
        reverse("sources:source-add"), {"kind": "github", "name": "G", "owner": "django/django", "repository": "x"}
    ).content.decode()
    assert "the name as it appears in the project&#x27;s URL" in github
    assert not Source.objects.exclude(name="Taken").exists()


def test_editing_shows_the_fields_filled_keeps_secrets_unseen_and_settings_set_elsewhere(client_for: Any) -> None:
    client = client_for("devrel_lead")
    source = SourceFactory(
        kind="discourse",
        name="Forum",
        config={"url": "https://forum.example.com", "categories_names": {"4": "Help"}, "set_by_api": 3},
        secrets=json.dumps({"token": "k3y-s3cret", "api_username": "k3y-user"}),
        schedule="15 */2 * * *",
    )
    url = reverse("sources:source-edit", args=[source.pk])
    page = client.get(url).content.decode()
    assert 'value="https://forum.example.com"' in page and "4 = Help" in page
    assert "k3y-s3cret" not in page and "k3y-user" not in page
    assert page.count('placeholder="stored: leave blank to keep it"') == 2
    assert re.search(r'value="cron"[^>]*checked', page) and 'value="15 */2 * * *"' in page
    assert 'name="kind"' in page and 'name="kind" id="id_kind"' not in page.split("source-setup")[0]  # no kind step
    client.post(
        url,
        {
            "kind": "discourse",
            "name": "Forum",
            "url": "https://forum.example.com",
            "categories_names": "4 = Help\n7 = Ideas",
            "secret_token": "",
            "secret_api_username": "bot",
            "schedule_every": "weekly",
            "enabled": "on",
        },
    )
    source.refresh_from_db()
    assert source.config == {
        "url": "https://forum.example.com",
        "categories_names": {"4": "Help", "7": "Ideas"},
        "set_by_api": 3,
    }
    assert json.loads(source.secrets) == {"token": "k3y-s3cret", "api_username": "bot"}  # the blank one is kept
    assert source.schedule == "0 6 * * 1"
    changed = client.post(url, {"kind": "slack", "name": "Forum", "url": "https://forum.example.com"})
    assert "The kind of a source cannot change" in changed.content.decode()


def test_adding_starts_with_the_kind_and_htmx_swaps_in_its_fields(client_for: Any) -> None:
    client = client_for("devrel_member")
    step = client.get(reverse("sources:source-add")).content.decode()
    assert 'name="kind"' in step and "<noscript>" in step and 'hx-target="#source-setup"' in step
    assert 'id="source-setup"' in step and "schedule_every" not in step  # no fields before a kind is chosen
    assert '<optgroup label="Read live through an API">' in step
    fragment = client.get(reverse("sources:source-add"), {"kind": "matrix"}, headers={"HX-Request": "true"})
    html = fragment.content.decode()
    assert "<html" not in html and html.lstrip().startswith('<div id="source-setup">')
    assert {"homeserver", "rooms", "secret_token"} <= field_names(html)
    unknown = client.get(reverse("sources:source-add"), {"kind": "carrier-pigeon"}).content.decode()
    assert "Select a valid choice" in unknown and "schedule_every" not in unknown


def test_an_archive_kind_takes_a_path_on_the_server_or_points_to_the_upload(client_for: Any) -> None:
    html = client_for("devrel_member").get(reverse("sources:source-add"), {"kind": "irc_log"}).content.decode()
    assert {"path", "channel", "network", "url_template"} <= field_names(html)
    assert reverse("sources:upload") in html
    rss = client_for("devrel_lead").post(reverse("sources:source-add"), {"kind": "rss", "name": "Blog"})
    assert "Give the URL to read, or the path of saved files on this server." in rss.content.decode()


def test_sync_now_is_offered_only_to_sources_that_have_something_to_read(client_for: Any) -> None:
    client = client_for("devrel_member")
    live = SourceFactory(kind="discord", config={"guild_id": GUILD})
    uploaded = SourceFactory(kind="slack_export", config={})  # its upload was imported whole and deleted
    feed = SourceFactory(kind="rss", config={"url": "https://blog.example.com/feed.xml"})
    for source, offered in ((live, True), (uploaded, False), (feed, True)):
        page = client.get(reverse("sources:source", args=[source.pk])).content.decode()
        assert ("Sync now</button>" in page) is offered, source.kind
        assert ("Upload an archive</a>" in page) is not offered, source.kind
    refused = client.post(reverse("sources:source-sync", args=[uploaded.pk]), follow=True).content.decode()
    assert "This source has nothing to sync: upload its archive instead." in refused
    assert not uploaded.runs.exists()
