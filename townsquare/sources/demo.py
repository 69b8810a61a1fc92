"""The Listen demo: real, openly licensed community archives that ship in ``demo_data/``.

Loading twice changes nothing (sources are found by name, messages upserted).
"""

from __future__ import annotations

from pathlib import Path

from townsquare.sources import services
from townsquare.sources.models import Source, SyncRun

DEMO_DATA = Path(__file__).resolve().parent / "demo_data"

DEMO_SOURCES = [
    # (name, kind, path under demo_data, config)
    ("Houston DataVis Slack (demo)", "slack_export", "slack/houstondatavis-slack-export-2016-07-31.zip",
     {"workspace_url": "https://houstondatavis.slack.com"}),
    ("PyScript Discord (demo)", "discord_export", "discord-html", {}),
    ("Infrahub Discord forum (demo)", "discord_export", "discord-api/data.zip", {}),
    ("Ubuntu IRC #ubuntu (demo)", "irc_log", "irc-ubuntu",
     {"channel": "#ubuntu", "network": "libera.chat",
      "url_template": "https://irclogs.ubuntu.com/{year}/{month}/{day}/%23{channel}.txt"}),
    ("Data Science Meta Stack Exchange (demo)", "stackexchange_dump", "stackexchange/datascience.meta.stackexchange.com",
     {"site": "datascience.meta.stackexchange.com"}),
]


def sources_demo_load() -> dict[str, int]:
    """Create the demo sources and import their archives; returns new messages per source name."""
    result: dict[str, int] = {}
    for name, kind, relative, config in DEMO_SOURCES:
        source = Source.objects.filter(name=name).first()
        if source is None:
            source = services.source_create(kind=kind, name=name, config={**config, "path": str(DEMO_DATA / relative)})
        elif source.runs.filter(status__in=[SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL]).exists():
            result[name] = 0  # already imported: the demo adds no second run
            continue
        run = services.archive_import(source=source, path=DEMO_DATA / relative)
        result[name] = run.new
    return result
