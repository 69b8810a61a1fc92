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
    # live APIs Perceval has no backend for
    "discord": f"{_P}.discord_live.DiscordConnector",
    "matrix": f"{_P}.matrix_live.MatrixConnector",
    "zulip": f"{_P}.zulip_live.ZulipConnector",
    # Perceval backends, through one adapter (perceval/base.py)
    "github": f"{_P}.perceval.github.GitHubConnector",
    "gitlab": f"{_P}.perceval.gitlab.GitLabConnector",
    "discourse": f"{_P}.perceval.discourse.DiscourseConnector",
    "stackexchange": f"{_P}.perceval.stackexchange.StackExchangeConnector",
    "mbox": f"{_P}.perceval.mail.MBoxConnector",
    "hyperkitty": f"{_P}.perceval.mail.HyperKittyConnector",
    "groupsio": f"{_P}.perceval.mail.GroupsioConnector",
    "nntp": f"{_P}.perceval.mail.NNTPConnector",
    "slack": f"{_P}.perceval.slack.SlackConnector",
    "gitter": f"{_P}.perceval.gitter.GitterConnector",
    "mattermost": f"{_P}.perceval.mattermost.MattermostConnector",
    "rocketchat": f"{_P}.perceval.rocketchat.RocketChatConnector",
    "telegram": f"{_P}.perceval.telegram.TelegramConnector",
    "supybot": f"{_P}.perceval.supybot.SupybotConnector",
    "rss": f"{_P}.perceval.rss.RSSConnector",
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
