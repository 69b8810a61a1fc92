"""What chat platforms encode in a message's text, shown as people read it in the app.

Slack writes ``<@U123>``, ``<#C123|general>`` and ``:tada:``; Discord writes ``<@123>``, ``<#123>``,
``<@&123>``, ``<:blobcat:123>`` and ``<t:1700000000:R>``. Stored bodies carry names and emoji, so
every page, email, chat message and report (each with its own escaper) shows the same readable text.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping

import emoji

_SHORTCODE = re.compile(r":[a-z0-9_+\-']+:")
_DISCORD = re.compile(
    r"<(?P<sigil>@!?|@&|#)(?P<id>\d+)>"
    r"|<(?P<animated>a?):(?P<emoji>\w+):\d+>"
    r"|<t:(?P<stamp>-?\d+)(?::[tTdDfFR])?>"
)


def shortcodes_to_emoji(text: str) -> str:
    """``:tada:`` → 🎉 for the codes Slack and GitHub share; unknown codes (custom emoji) stay as written."""
    if ":" not in text:
        return text
    return _SHORTCODE.sub(lambda m: emoji.emojize(m.group(0), language="alias"), text)


def discord_plain(
    content: str,
    *,
    users: Mapping[str, str] | Callable[[str], str | None],
    channels: Mapping[str, str],
    roles: Mapping[str, str] | None = None,
) -> str:
    """Discord markup to names: ``<@id>`` → @name, ``<#id>`` → #channel, ``<:name:id>`` → :name:.

    ``users`` maps ids to display names (a message's ``mentions``, the export's authors); an id no one
    named reads ``@unknown-user``, as in Discord's own client.
    """
    if "<" not in content:
        return content
    lookup = users.get if isinstance(users, Mapping) else users

    def name(match: re.Match[str]) -> str:
        if match["sigil"] is not None:
            ident = match["id"]
            if match["sigil"] == "#":
                return "#" + (channels.get(ident) or "unknown-channel").lstrip("#")
            if match["sigil"] == "@&":
                return "@" + ((roles or {}).get(ident) or "unknown-role")
            return "@" + (lookup(ident) or "unknown-user")
        if match["emoji"] is not None:
            return f":{match['emoji']}:"
        stamp = dt.datetime.fromtimestamp(int(match["stamp"]), tz=dt.UTC)
        return f"{stamp:%Y-%m-%d %H:%M} UTC"

    return _DISCORD.sub(name, content)


def discord_user_name(user: Mapping[str, object]) -> str:
    """The name Discord shows for a user object: the global display name, else the username."""
    return str(user.get("global_name") or user.get("username") or "")
