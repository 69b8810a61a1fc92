"""Chat markup (mentions, channels, custom emoji, timestamps, :shortcodes:) is stored as readable text."""

from __future__ import annotations

import re

import pytest

from townsquare.sources.connectors.markup import discord_plain, shortcodes_to_emoji
from townsquare.sources.tests.helpers import DATA, read


def test_discord_markup_reads_as_names() -> None:
    text = "<@1> and <@!2>: see <#10> (ask <@&7>) <:blobcat:99> <a:party:98> by <t:1700000000:R>; <@3> left"
    assert discord_plain(text, users={"1": "Ana", "2": "Bo"}, channels={"10": "help"}, roles={"7": "mods"}) == (
        "@Ana and @Bo: see #help (ask @mods) :blobcat: :party: by 2023-11-14 22:13 UTC; @unknown-user left"
    )


def test_a_name_with_markup_is_kept_as_text_for_each_format_to_escape() -> None:
    assert discord_plain("hi <@1>", users={"1": "<script>x</script>"}, channels={}) == "hi @<script>x</script>"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (":tada: shipped :white_check_mark:", "\U0001f389 shipped \u2705"),
        (":+1: and :party_parrot:", "\U0001f44d and :party_parrot:"),  # a workspace's own emoji stays a code
        ("at 10:30:00 the build broke", "at 10:30:00 the build broke"),
    ],
)
def test_shortcodes_become_emoji_and_unknown_ones_stay(text: str, expected: str) -> None:
    assert shortcodes_to_emoji(text) == expected


@pytest.mark.skipif(not (DATA / "discord").is_dir(), reason="the shared archives are not here")
def test_raw_discord_api_mentions_are_stored_as_names() -> None:
    records, _ = read("discord_export", DATA / "discord/infrahub-discord-forum-api/data.zip")
    assert not [r.body for r in records if re.search(r"<@!?\d+>", r.body)]
    mentioned = [r for r in records if "@Alex Gittings" in r.body]
    assert mentioned and not any("@unknown-user" in r.body for r in mentioned)
