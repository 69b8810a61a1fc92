"""An upload's kind is recognised from its content (and said), may be overridden, and a repeat says so."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from townsquare.sources.detect import archive_kind_detect
from townsquare.sources.models import Channel, Source, SyncRun
from townsquare.sources.tests.helpers import DATA, FIXTURES

pytestmark = pytest.mark.django_db
IMMEDIATE = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "QUEUES": ["default", "notify", "ingest", "feedback"],
    }
}
SLACK = DATA / "slack/houstondatavis-slack-export-2016-07-31.zip"
FLUID = DATA / "irc/limnoria-channellogger/#fluid-work/#fluid-work.2019-03-01.log"


@pytest.mark.parametrize(
    "path, kind",
    [
        (SLACK, "slack_export"),
        (DATA / "discord/infrahub-discord-forum-api/data.zip", "discord_export"),
        (
            DATA
            / "discord/pyscript-discordchatexporter-html/PyScript_General-pyscript-bugs_1037015991416258602.html.gz",
            "discord_export",
        ),
        (FIXTURES / "discord_export/general__dce.json", "discord_export"),
        (FLUID, "supybot"),
        (DATA / "irc/ubuntu-irclogs/2017-07-15.train-c.raw.txt", "irc_log"),
        (FIXTURES / "irc_log/znc__#townsquare_20190303.log", "irc_log"),
        (FIXTURES / "irc_log/weechat__irc.libera.#townsquare.weechatlog.log", "irc_log"),
        (DATA / "mailing-lists/pipermail/r-devel/2025-April.txt", "pipermail"),
        (FIXTURES / "hyperkitty/export__2025-09.mbox", "mbox"),
        (DATA / "github/bitcoin-core-gui-metadata-backup/issues/1.json.gz", "github_archive"),
        (FIXTURES / "github_discussions/discussions__page1.json", "github_discussions"),
        (DATA / "rss/blog.couchbase.com-2016-12.rss.xml", "rss"),
        (DATA / "stackexchange/datascience.meta.stackexchange.com/Posts.xml", "stackexchange_dump"),
        (FIXTURES / "matrix_export/room__element.json", "matrix_export"),
        (FIXTURES / "zulip_export/export/realm.json", "zulip_export"),
    ],
    ids=lambda value: value if isinstance(value, str) else value.name[:40],
)
def test_real_archives_are_recognised_from_their_content(path: Path, kind: str, tmp_path: Path) -> None:
    renamed = tmp_path / "upload.bin"  # the content decides, not the file name
    renamed.write_bytes(path.read_bytes())
    found = archive_kind_detect(renamed, name=path.name)
    assert found is not None and found.kind == kind, found


def test_a_discourse_topic_is_recognised_inside_its_gzip(tmp_path: Path) -> None:
    topic = next(iter(sorted((DATA / "discourse/urho3d/t").iterdir())))
    assert archive_kind_detect(topic).kind == "discourse_archive"  # type: ignore[union-attr]
    junk = tmp_path / "notes.txt"
    junk.write_text("shopping list: eggs, milk\n")
    broken = tmp_path / "half.gz"
    broken.write_bytes(gzip.compress(b"x" * 100)[:20])
    assert archive_kind_detect(junk) is None and archive_kind_detect(broken) is None


def upload(client: Any, path: Path, capture: Any, **data: str) -> Any:
    """Upload, let the import run (after the request's commit), then open the page the upload led to."""
    with capture(execute=True), path.open("rb") as handle:
        response = client.post(reverse("sources:upload"), {"archive": handle, **data})
    return client.get(response["Location"]) if response.status_code == 302 else response


def test_an_upload_says_which_kind_it_recognised_and_a_repeat_says_already_imported(
    client_for: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.TASKS = IMMEDIATE
    client = client_for("devrel_member")
    first = upload(client, SLACK, django_capture_on_commit_callbacks, name="Houston Slack").content.decode()
    assert "Recognised Slack workspace export (zip) from its content (channels.json and a folder of day files)" in first
    assert "Not right? Upload it again and pick its kind." in first
    source = Source.objects.get(name="Houston Slack")
    assert source.kind == "slack_export"
    new = SyncRun.objects.get(source=source).new
    again = upload(client, SLACK, django_capture_on_commit_callbacks, name="Houston Slack").content.decode()
    assert f"Already imported: {new} unchanged." in again
    assert "Already imported" not in client.get(reverse("sources:run", args=[source.runs.last().pk])).content.decode()


def test_the_user_may_override_the_kind_and_an_unknown_file_asks_for_it(
    client_for: Any, settings: Any, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    settings.TASKS = IMMEDIATE
    client = client_for("devrel_member")
    page = upload(client, FLUID, django_capture_on_commit_callbacks, kind="irc_log", name="Fluid").content.decode()
    assert "Recognised" not in page and Source.objects.get(name="Fluid").kind == "irc_log"
    junk = tmp_path / "notes.txt"
    junk.write_text("shopping list: eggs, milk\n")
    refused = upload(client, junk, django_capture_on_commit_callbacks, name="Notes").content.decode()
    assert "Townsquare could not tell what kind of archive this is: pick its kind." in refused
    assert not Source.objects.filter(name="Notes").exists()
    assert not any((Path(settings.DATA_DIR) / "uploads").glob("*/notes.txt"))  # nothing left behind


def test_an_uploaded_channel_log_is_named_after_its_channel_not_the_source(
    client_for: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.TASKS = IMMEDIATE
    client = client_for("devrel_member")
    upload(client, FLUID, django_capture_on_commit_callbacks, name="Fluid project IRC")
    source = Source.objects.get(name="Fluid project IRC")
    assert source.kind == "supybot" and source.runs.get().new > 0
    assert list(Channel.objects.filter(source=source).values_list("name", flat=True)) == ["#fluid-work"]
    znc = FIXTURES / "irc_log/znc__#townsquare_20190303.log"
    upload(client, znc, django_capture_on_commit_callbacks, name="Townsquare IRC")
    assert list(Channel.objects.filter(source__name="Townsquare IRC").values_list("name", flat=True)) == ["#townsquare"]


def test_the_upload_form_is_prefilled_for_a_source_that_waits_for_one(client_for: Any) -> None:
    source = Source.objects.create(name="Old Slack", kind="slack_export")
    html = client_for("devrel_member").get(reverse("sources:upload"), {"source": source.pk}).content.decode()
    assert 'value="Old Slack"' in html and '<option value="slack_export" selected>' in html
