"""Every kind of source in the Listen issue can be added: API kinds through the source form (with a connection
test), archive kinds through the upload form or `townsquare import`."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse

from townsquare.sources.connectors import archive_kinds
from townsquare.sources.models import Message, Source
from townsquare.sources.tests.helpers import FIXTURES
from townsquare.sources.tests.replay import ReplayServer, Reply

pytestmark = pytest.mark.django_db

API_KINDS: dict[str, dict[str, Any]] = {
    "github": {"owner": "django", "repository": "django"},
    "gitlab": {"owner": "gitlab-org", "repository": "gitlab-runner", "base_url": "https://gitlab.example.com"},
    "discourse": {"url": "https://discuss.python.org"},
    "stackexchange": {"site": "stackoverflow", "tagged": "django", "api_url": "https://se-proxy.example.com"},
    "hyperkitty": {"url": "https://mail.python.org/archives/list/python-dev@python.org/", "start": "2024-01"},
    "groupsio": {"group": "beta", "api_url": "https://groupsio-proxy.example.com/api/v1"},
    "nntp": {"host": "news.gmane.io", "group": "gmane.comp.python.devel", "port": 119},
    "slack": {
        "channel": "C0123ABCD",
        "api_url": "https://acme.enterprise.slack.com",
        "workspace_url": "https://acme.slack.com",
    },
    "gitter": {"group": "jupyterlab", "room": "jupyterlab", "api_url": "https://gitter-proxy.example.com/v1"},
    "mattermost": {"url": "https://chat.example.com", "channel": "4xp9fdt77pncbef59f4k1qe83o"},
    "rss": {"url": "https://blog.example.com/feed.xml"},
    "rocketchat": {"url": "https://chat.example.com", "channel": "general"},
    "telegram": {"bot": "acme_bot"},
}


# Live APIs with a connector of our own (no Perceval backend): tested against their replay servers.
OWN_API_KINDS = {"discord", "matrix", "zulip"}


def test_a_discord_source_is_tested_against_the_api_from_the_form(client_for: Any, replay: ReplayServer) -> None:
    guild = "900000000000000001"
    replay.add(f"/guilds/{guild}", Reply((FIXTURES / "discord/guild.json").read_text()))
    replay.add(f"/guilds/{guild}/channels", Reply((FIXTURES / "discord/guild_channels.json").read_text()))
    data = {
        "name": "Acme Discord",
        "kind": "discord",
        "guild_id": guild,
        "api_url": replay.base,
        "secret_token": "bot-secret",
        "schedule_every": "hourly",
        "enabled": "on",
        "test": "1",
    }
    page = client_for("devrel_lead").post(reverse("sources:source-add"), data).content.decode()
    assert "config" not in re.findall(r'name="(\w+)"', page)  # named fields, no JSON box
    assert "Connection test passed" in page and "Discord server Acme Community: 3 readable channels" in page
    assert "bot-secret" not in page


def test_every_kind_is_offered_by_the_source_form_or_the_upload_form(client_for: Any) -> None:
    assert set(Source.Kind.values) == set(API_KINDS) | set(OWN_API_KINDS) | set(archive_kinds())
    client = client_for("devrel_member")
    form = client.get(reverse("sources:source-add")).content.decode()
    upload = client.get(reverse("sources:upload")).content.decode()
    for kind in Source.Kind.values:
        assert f'value="{kind}"' in form  # the kind step offers every kind
        assert f'id="kind-{kind}"' in form  # and, for the API, says which JSON settings it takes
    for kind in archive_kinds():
        assert f'value="{kind}"' in upload
    slack = form.split('id="kind-slack"')[1].split("</tr>")[0]
    assert "<code>api_url</code>" in slack and "Enterprise Grid" in slack and "<code>channel</code> (required)" in slack


@pytest.mark.parametrize("kind", sorted(API_KINDS))
def test_an_api_source_is_tested_and_saved_from_the_form(client_for: Any, kind: str) -> None:
    client = client_for("devrel_lead")
    data: dict[str, Any] = {
        "name": f"My {kind}",
        "kind": kind,
        "schedule_every": "hourly",
        "enabled": "on",
    }
    if kind in ("groupsio",):
        data.update({"secret_email": "dana@example.com", "secret_password": "pw"})
    else:
        data["secret_token"] = "t"
    missing = client.post(reverse("sources:source-add"), {**data, "test": "1"}).content.decode()
    assert 'class="error" role="alert"' in missing and "Connection test" not in missing  # named fields say what
    data.update({key: json.dumps(v) if isinstance(v, dict) else v for key, v in API_KINDS[kind].items()})
    if kind == "discourse":
        refused = client.post(reverse("sources:source-add"), {**data, "test": "1"}).content.decode()
        assert "Connection test failed" in refused and "Api token and username must be defined together" in refused
        data["secret_api_username"] = "system"
    passed = client.post(reverse("sources:source-add"), {**data, "test": "1"}).content.decode()
    assert "Connection test passed" in passed and "backend configured for" in passed
    client.post(reverse("sources:source-add"), data)
    source = Source.objects.get(name=f"My {kind}")
    assert (source.kind, source.config, source.schedule) == (kind, API_KINDS[kind], "0 * * * *")


def test_an_mbox_file_is_imported_from_the_command_line_without_its_neighbours(tmp_path: Path) -> None:
    archive = tmp_path / "widgets-2025-09.mbox"
    shutil.copy(FIXTURES / "hyperkitty/export__2025-09.mbox", archive)
    shutil.copy(FIXTURES / "hyperkitty/export__2025-10.mbox", tmp_path / "another-list.mbox")
    out = io.StringIO()
    call_command("import", "mbox", str(archive), "--name", "Widgets list", stdout=out)
    assert "Created source 'Widgets list'" in out.getvalue()
    assert sorted(Message.objects.filter(source__name="Widgets list").values_list("external_id", flat=True)) == [
        "87bo0002@example.com",
        "CAFana0001@mail.example.org",
    ]


def test_a_source_added_in_the_form_is_read_by_townsquare_sync(client_for: Any, replay: Any) -> None:
    from townsquare.sources.tests.test_perceval_chat import gitter_server

    gitter_server(replay)
    client = client_for("devrel_lead")
    config = {"group": "widgets", "room": "community", "api_url": replay.base}
    client.post(
        reverse("sources:source-add"),
        {
            "name": "Widgets Gitter",
            "kind": "gitter",
            **config,
            "secret_token": "gitter-token",
            "schedule_every": "",
            "enabled": "on",
        },
    )
    out = io.StringIO()
    call_command("sync", "Widgets Gitter", stdout=out)
    assert "succeeded" in out.getvalue()
    messages = Message.objects.filter(source__name="Widgets Gitter")
    assert messages.count() == 4 and all(m.url.startswith("https://gitter.im/widgets/community?at=") for m in messages)
    assert all(r.headers["Authorization"] == "Bearer gitter-token" for r in replay.log)  # the secret typed in the form
