"""Connector registry: one module per Source kind."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from django.utils.module_loading import import_string

from townsquare.core.errors import TownsquareError

if TYPE_CHECKING:
    from townsquare.sources.connectors.base import Connector
    from townsquare.sources.models import Source

_P = "townsquare.sources.connectors"
CONNECTORS: dict[str, str] = {
    # plain parsers for archives Perceval cannot read
    "slack_export": f"{_P}.slack_export.SlackExportConnector",
    "discord_export": f"{_P}.discord_export.DiscordExportConnector",
    "irc_log": f"{_P}.irc_log.IrcLogConnector",
    "github_archive": f"{_P}.github_archive.GitHubArchiveConnector",
    "github_discussions": f"{_P}.github_discussions.GitHubDiscussionsConnector",
    "stackexchange_dump": f"{_P}.stackexchange_dump.StackExchangeDumpConnector",
    "pipermail": f"{_P}.pipermail.PipermailConnector",
    "discourse_archive": f"{_P}.discourse_archive.DiscourseArchiveConnector",
    "matrix_export": f"{_P}.matrix_export.MatrixExportConnector",
    "zulip_export": f"{_P}.zulip_export.ZulipExportConnector",
    # Perceval backends, through one adapter
    "github": f"{_P}.perceval_adapter.GitHubConnector",
    "gitlab": f"{_P}.perceval_adapter.GitLabConnector",
    "discourse": f"{_P}.perceval_adapter.DiscourseConnector",
    "stackexchange": f"{_P}.perceval_adapter.StackExchangeConnector",
    "mbox": f"{_P}.perceval_adapter.MBoxConnector",
    "hyperkitty": f"{_P}.perceval_adapter.HyperKittyConnector",
    "groupsio": f"{_P}.perceval_adapter.GroupsioConnector",
    "nntp": f"{_P}.perceval_adapter.NNTPConnector",
    "slack": f"{_P}.perceval_adapter.SlackConnector",
    "gitter": f"{_P}.perceval_adapter.GitterConnector",
    "mattermost": f"{_P}.perceval_adapter.MattermostConnector",
    "supybot": f"{_P}.perceval_adapter.SupybotConnector",
    "rss": f"{_P}.perceval_adapter.RSSConnector",
}


def connector_class(kind: str) -> type[Connector]:
    try:
        return import_string(CONNECTORS[kind])
    except KeyError:
        raise TownsquareError(f"no connector for kind {kind!r}", record=kind) from None


def connector_for(source: Source, *, path: str | Path | None = None) -> Connector:
    return connector_class(source.kind)(source, path=path)


def archive_kinds() -> list[str]:
    return [kind for kind in CONNECTORS if connector_class(kind).is_archive]
