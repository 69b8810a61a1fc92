"""IRC nick changes ("ana_ is now known as ana") become merge suggestions, so a rename does not split a person."""

from __future__ import annotations

from pathlib import Path

import pytest

from townsquare.people.models import Identity, MergeSuggestion
from townsquare.sources import services
from townsquare.sources.connectors import connector_for
from townsquare.sources.connectors.base import IdentityAlias
from townsquare.sources.models import Source
from townsquare.sources.tests.factories import SourceFactory
from townsquare.sources.tests.helpers import DATA


@pytest.mark.parametrize(
    "line",
    [
        "=== ana_ is now known as Ana",  # irclogs.ubuntu.com
        "2019-03-01T10:00:00  *** ana_ is now known as Ana",  # Limnoria
        "[10:00:00] *** ana_ is now known as Ana",  # ZNC
        "10:00 -!- ana_ is now known as Ana",  # irssi
        "2019-03-01 10:00:00\t--\tana_ is now known as Ana",  # WeeChat
    ],
)
def test_each_log_formats_nick_change_is_read_as_a_rename(tmp_path: Path, line: str) -> None:
    log = tmp_path / "#townsquare.2019-03-01.log"
    log.write_text(f"{line}\n2019-03-01T10:01:00  <ana> said something about the name\n")
    items = list(connector_for(Source(kind="irc_log", name="t"), path=log).fetch({}))
    assert [i for i in items if isinstance(i, IdentityAlias)] == [IdentityAlias(realm="irc:irc", old="ana_", new="ana")]


def test_a_message_that_quotes_a_rename_is_not_one(tmp_path: Path) -> None:
    log = tmp_path / "#townsquare.2019-03-01.log"
    log.write_text("2019-03-01T10:01:00  <bo> irssi prints: ana_ is now known as ana\n")
    items = list(connector_for(Source(kind="irc_log", name="t"), path=log).fetch({}))
    assert not [i for i in items if isinstance(i, IdentityAlias)]


@pytest.mark.django_db
def test_a_rename_between_two_speaking_nicks_suggests_one_merge_and_no_more(tmp_path: Path) -> None:
    log = tmp_path / "#townsquare.2019-03-01.log"
    log.write_text(
        "2019-03-01T10:00:00  <ana_> build fails on arm64\n"
        "2019-03-01T10:01:00  *** ana_ is now known as ana\n"
        "2019-03-01T10:02:00  *** cy is now known as cy_away\n"  # cy never speaks: nothing to suggest
        "2019-03-01T10:03:00  <ana> with the same trace as yesterday\n"
    )
    source = SourceFactory(kind="irc_log")
    services.archive_import(source=source, path=log)
    suggestion = MergeSuggestion.objects.get()
    members = {
        Identity.objects.get(external_id="ana_").member_id,
        Identity.objects.get(external_id="ana").member_id,
    }
    assert {suggestion.member_a_id, suggestion.member_b_id} == members
    assert suggestion.reason == "“ana_” is now known as “ana” on irc:irc"
    services.archive_import(source=source, path=log)
    assert MergeSuggestion.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.skipif(not (DATA / "irc/ubuntu-irclogs").is_dir(), reason="the shared archives are not here")
def test_renames_in_a_real_ubuntu_log_are_suggested_when_both_nicks_spoke(tmp_path: Path) -> None:
    folder = DATA / "irc/ubuntu-irclogs"
    renames = set()
    for path in folder.iterdir():
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("=== ") and " is now known as " in line:
                old, new = line[4:].split(" is now known as ")
                renames.add((old.strip().lower(), new.strip().lower()))
    source = SourceFactory(kind="irc_log", config={"network": "libera"})
    services.archive_import(source=source, path=folder)
    member_of = dict(Identity.objects.filter(realm="irc:libera").values_list("external_id", "member_id"))
    pairs = {
        tuple(sorted((member_of[a], member_of[b])))
        for a, b in renames
        if a in member_of and b in member_of and member_of[a] != member_of[b]
    }
    assert pairs, "the sample has renames between nicks that both spoke"
    suggested = set(MergeSuggestion.objects.values_list("member_a_id", "member_b_id"))
    assert suggested == pairs
