"""Real community messages for benchmarks: every archive in ``../shared/data`` read by our own connectors.

Call after ``django.setup()``. Yields ``(archive kind, MessageRecord)``; the records are exactly what
an import would store, so benchmarks built on them see real lengths, languages, code and chatter.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

ARCHIVES: list[tuple[str, str, dict[str, Any]]] = [
    ("slack_export", "slack/houstondatavis-slack-export-2016-07-31.zip", {}),
    ("discord_export", "discord/pyscript-discordchatexporter-html", {}),
    ("discord_export", "discord/infrahub-discord-forum-api/data.zip", {}),
    ("irc_log", "irc/ubuntu-irclogs", {"channel": "#ubuntu"}),
    ("irc_log", "irc/limnoria-channellogger/#fluid-work", {}),
    ("stackexchange_dump", "stackexchange/datascience.meta.stackexchange.com", {}),
    ("github_archive", "github/bitcoin-core-gui-metadata-backup", {}),
    ("discourse_archive", "discourse/urho3d/t", {"url": "https://discourse.urho3d.io"}),
    ("pipermail", "mailing-lists/pipermail/r-devel", {}),
    ("pipermail", "mailing-lists/pipermail/r-package-devel", {}),
]


def available() -> bool:
    return SHARED_DATA.is_dir()


def records() -> Iterator[tuple[str, Any]]:
    from townsquare.sources.connectors import connector_for
    from townsquare.sources.connectors.base import MessageRecord
    from townsquare.sources.models import Source

    for kind, relative, config in ARCHIVES:
        path = SHARED_DATA / relative
        if not path.exists():
            continue
        source = Source(kind=kind, name=f"bench {relative}", config=config)
        for item in connector_for(source, path=path).fetch({}):
            if isinstance(item, MessageRecord):
                yield kind, item


def starts_thread(record: Any) -> bool:
    """A record opens its thread when it names no parent and no other message as its thread."""
    return not record.parent_external_id and record.thread_external_id in ("", record.external_id)
