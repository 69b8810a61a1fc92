"""Plain IRC logs: irclogs.ubuntu.com, Limnoria/Supybot ChannelLogger, irssi, WeeChat and ZNC.

The style is recognised per line. Lines carry no ids, so a message's id is
``<channel>:<file stem>:<line number>``: stable while a daily log only grows.
Logs without dates in their lines take the date from the file name; clocks that
go backwards mean midnight passed, and (as on irclogs.ubuntu.com excerpts whose
name is the *last* day) lines before a wrap belong to the day(s) before.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from townsquare.people.refs import IdentityRef
from townsquare.sources.connectors._util import files_under, text_lines
from townsquare.sources.connectors.base import ChannelRef, Connector, IdentityAlias, MessageRecord, Record, RecordError

# Each pattern yields groups: time fields, nick, text. "action" marks /me lines.
_ISO = r"(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<time>\d{2}:\d{2}:\d{2})"
PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    # Limnoria ChannelLogger: 2019-03-01T00:38:25  <nick> text
    ("msg", re.compile(_ISO + r"  <(?P<nick>[^>]+)> ?(?P<text>.*)$")),
    ("action", re.compile(_ISO + r"  \* (?P<nick>\S+) (?P<text>.*)$")),
    # WeeChat: 2019-03-03 14:00:01<TAB>nick<TAB>text (prefix modes @ + ~ % &)
    ("weechat", re.compile(_ISO + r"\t(?P<nick>[^\t]*)\t(?P<text>.*)$")),
    # irclogs.ubuntu.com: [HH:MM] <nick> text ;  [HH:MM]  * nick action
    # ZNC: [HH:MM:SS] <nick> text ;  [HH:MM:SS] * nick action
    ("msg", re.compile(r"\[(?P<time>\d{2}:\d{2}(?::\d{2})?)\] <(?P<nick>[^>]+)> ?(?P<text>.*)$")),
    ("action", re.compile(r"\[(?P<time>\d{2}:\d{2}(?::\d{2})?)\]  ?\* (?P<nick>\S+)(?: (?P<text>.*))?$")),
    # a notice to the channel: [HH:MM] -nick:#chan- text
    ("msg", re.compile(r"\[(?P<time>\d{2}:\d{2}(?::\d{2})?)\] -(?P<nick>[^\s:]+):#\S*- ?(?P<text>.*)$")),
    # irssi: HH:MM <@nick> text ;  HH:MM  * nick action
    ("msg", re.compile(r"(?P<time>\d{2}:\d{2}(?::\d{2})?) <[ @+%~&]?(?P<nick>[^>]+)> ?(?P<text>.*)$")),
    ("action", re.compile(r"(?P<time>\d{2}:\d{2}(?::\d{2})?)  \* (?P<nick>\S+) (?P<text>.*)$")),
]
_IRSSI_DAY = re.compile(
    r"--- (?:Day changed|Log opened) \w{3} (?P<mon>\w{3}) (?P<day>\d{2})(?: [\d:]+)? (?P<year>\d{4})"
)
_DATE_IN_NAME = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")
# "#chan" in a log's file or folder name; ZNC appends the day ("#chan_20190303.log"), which is not the channel's.
_CHANNEL_IN_NAME = re.compile(r"(#[^./\\]+?)(?:_\d{8})?(?:\.|$)")
_WEECHAT_SYSTEM = {"-->", "<--", "--", "=!="}
# "=== a is now known as b" (irclogs.ubuntu.com), "*** ..." (Limnoria, ZNC), "-!- ..." (irssi), "--\t..." (WeeChat)
_NICK_CHANGE = re.compile(r"(?:^|[\s=*!-])(?P<old>[^\s<>]+) is now known as (?P<new>[^\s<>]+)\s*$")


class IrcLogConnector(Connector):
    kind = "irc_log"
    is_archive = True

    def fetch(self, cursor: dict[str, Any]) -> Iterator[Record]:
        files = files_under(self.require_path(), ".log", ".txt", ".log.gz", ".txt.gz")
        network = self.config.get("network") or "irc"
        realm = self.config.get("realm") or f"irc:{network}"
        for number, file in enumerate(files, start=1):
            self.progress = (number - 1, len(files))
            yield from self._file(file, realm)
        self.progress = (len(files), len(files))

    def channel_for(self, file: Path) -> ChannelRef:
        name = self.config.get("channel") or ""
        if not name:
            folder = self.folder_name(file.parent)
            found = _CHANNEL_IN_NAME.search(file.name) or _CHANNEL_IN_NAME.search(folder)
            name = found.group(1) if found else "#" + (folder or "irc")
        return ChannelRef(external_id=name.lower(), name=name, url=self.config.get("channel_url", ""))

    def _file(self, file: Path, realm: str) -> Iterator[Record]:
        channel = self.channel_for(file)
        found = _DATE_IN_NAME.search(file.name)
        file_date = dt.date(*map(int, found.groups())) if found else None
        # Pass 1: how many times does the clock wrap before the end of the file?
        wraps = 0
        previous = ""
        for line in text_lines(file):
            clock = _clock(line)
            if clock is not None:
                if previous and clock < previous:
                    wraps += 1
                previous = clock
        day = file_date - dt.timedelta(days=wraps) if file_date else None
        previous = ""
        stem = file.name.split(".log")[0].split(".txt")[0]
        for lineno, line in enumerate(text_lines(file), start=1):
            if not line.strip():
                continue
            changed = _IRSSI_DAY.match(line)
            if changed:
                day = dt.datetime.strptime(f"{changed['day']} {changed['mon']} {changed['year']}", "%d %b %Y").date()
                previous = ""
                continue
            parsed = _parse(line)
            if parsed is None:
                renamed = _NICK_CHANGE.search(line)
                if renamed and renamed["old"].lower() != renamed["new"].lower():
                    yield IdentityAlias(realm=realm, old=renamed["old"].lower(), new=renamed["new"].lower())
                continue  # joins, parts, nick changes, topic, mode: not conversation
            kind, fields = parsed
            try:
                if fields.get("date"):
                    stamp = dt.datetime.fromisoformat(f"{fields['date']}T{fields['time']}")
                else:
                    clock = fields["time"]
                    if previous and clock < previous and day is not None:
                        day += dt.timedelta(days=1)
                    previous = clock
                    if day is None:
                        raise ValueError("no date in the line or the file name")
                    stamp = dt.datetime.combine(
                        day, dt.time.fromisoformat(clock if clock.count(":") == 2 else clock + ":00")
                    )
            except ValueError as exc:
                yield RecordError(record=f"{file.name}:{lineno}", reason=str(exc))
                continue
            nick = fields["nick"].strip().lstrip("@+%~&")
            if not nick:
                continue
            text = fields.get("text") or ""
            if kind == "action":
                text = f"* {nick} {text}"
            tz = dt.UTC
            yield MessageRecord(
                external_id=f"{channel.external_id}:{stem}:{lineno}",
                kind="chat",
                created_at=stamp.replace(tzinfo=tz),
                channel=channel,
                author=IdentityRef(realm=realm, external_id=nick.lower(), handle=nick, display_name=nick),
                body=text,
                url=self._url(stamp.date(), channel.name),
            )

    def _url(self, day: dt.date, channel: str) -> str:
        return log_url(self.config.get("url_template") or "", day, channel)


def log_url(template: str, day: dt.date, channel: str) -> str:
    """The web page of a day's log, from a template such as ``https://irclogs.ubuntu.com/{year}/{month}/{day}/%23{channel}.txt``."""
    if not template:
        return ""
    return template.format(year=day.year, month=f"{day.month:02d}", day=f"{day.day:02d}", channel=channel.lstrip("#"))


def _clock(line: str) -> str | None:
    if line.startswith("["):
        end = line.find("]")
        return line[1:end] if 0 < end <= 9 else None
    if len(line) > 5 and line[2] == ":" and line[:2].isdigit():
        return line.split(" ", 1)[0]
    return None


def _parse(line: str) -> tuple[str, dict[str, str]] | None:
    for kind, pattern in PATTERNS:
        match = pattern.match(line)
        if match is None:
            continue
        fields = match.groupdict()
        if kind == "weechat":
            nick = fields["nick"]
            if nick in _WEECHAT_SYSTEM:
                return None
            if nick.strip() == "*":
                head, _, rest = fields["text"].partition(" ")
                return "action", {**fields, "nick": head, "text": rest}
            return "msg", fields
        if fields.get("nick", "").startswith(("*", "-")):
            return None
        return kind, fields
    return None
