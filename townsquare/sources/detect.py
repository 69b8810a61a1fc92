"""Which kind of archive a file is, from its content (not its name): the upload form's default.

Reads little: a zip's or tar's member names and one member's head, or a file's first 64 KiB (decompressed
when gzipped). Returns the kind and the evidence, so the upload page can say what it chose and why; ``None``
when nothing is recognisable (the user then picks the kind).
"""

from __future__ import annotations

import gzip
import re
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

HEAD = 65536
DAY_FILE = re.compile(r"(^|/)[^/]+/\d{4}-\d\d-\d\d\.json$")
SUPYBOT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d  ", re.MULTILINE)
IRC = re.compile(
    r"^(--- Log opened |\[?\d\d:\d\d(:\d\d)?\]? (<[^>]+>|\*|-!-)|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\t)", re.MULTILINE
)
MAIL_FROM = re.compile(r"^From \S+.*\d\d:\d\d:\d\d \d{4}\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Detection:
    kind: str
    evidence: str  # what in the content gave it away, for the page ("channels.json and day folders")


def archive_kind_detect(path: Path, *, name: str = "") -> Detection | None:
    """The archive kind of ``path`` (``name``: the uploaded file's name, for Pipermail's month files)."""
    try:
        if zipfile.is_zipfile(path):
            return _zip(path)
        if tarfile.is_tarfile(path):
            return _tar(path)
        return _text(_head(path), name or path.name)
    except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError, gzip.BadGzipFile):
        return None


def _head(path: Path) -> str:
    with path.open("rb") as raw:
        magic = raw.read(2)
    opener = gzip.open if magic == b"\x1f\x8b" else open
    with opener(path, "rb") as handle:
        data: bytes = handle.read(HEAD)
    return data.decode("utf-8", errors="replace").lstrip("\ufeff \r\n\t")


def _names_kind(names: list[str]) -> Detection | None:
    base = {n.rsplit("/", 1)[-1] for n in names}
    if {"channels.json", "users.json"} & base and any(DAY_FILE.search(n) for n in names):
        return Detection("slack_export", "channels.json and a folder of day files")
    if "realm.json" in base:
        return Detection("zulip_export", "realm.json with messages files")
    if "Posts.xml" in base or "Posts.xml.gz" in base:
        return Detection("stackexchange_dump", "Posts.xml")
    return None


def _zip(path: Path) -> Detection | None:
    with zipfile.ZipFile(path) as archive:
        members = [i for i in archive.infolist()[:20000] if not i.is_dir()]
        found = _names_kind([i.filename for i in members])
        if found or not members:
            return found
        first = members[0]
        with archive.open(first) as handle:
            head = handle.read(HEAD)
        if first.filename.endswith(".gz"):
            head = gzip.decompress(head) if len(head) < HEAD else b""
    inner = _text(head.decode("utf-8", errors="replace").lstrip("\ufeff \r\n\t"), first.filename)
    return Detection(inner.kind, f"{inner.evidence} in {first.filename}") if inner else None


def _tar(path: Path) -> Detection | None:
    with tarfile.open(path) as archive:
        names = []
        for number, member in enumerate(archive):
            names.append(member.name)
            if number > 20000:
                break
    return _names_kind(names)


def _text(head: str, name: str) -> Detection | None:
    if head.startswith("{") or re.match(r"\[\s*[{\]\"]", head):  # not "[14:00] <ana>" of an IRC log
        return _json(head)
    if head.startswith("<"):
        return _markup(head)
    if SUPYBOT.search(head):
        return Detection("supybot", "Supybot / Limnoria ChannelLogger lines")
    if MAIL_FROM.search(head):
        first = MAIL_FROM.search(head)
        if re.fullmatch(r"\d{4}-[A-Z][a-z]+\.txt(\.gz)?", name.rsplit("/", 1)[-1]) or (
            first and " at " in first.group(0)
        ):
            return Detection("pipermail", "a Pipermail month of mail")
        return Detection("mbox", "mail in mbox format")
    if IRC.search(head):
        return Detection("irc_log", "IRC log lines")
    return None


def _json(head: str) -> Detection | None:
    def has(*keys: str) -> bool:
        return all(f'"{key}"' in head for key in keys)

    if has("guild", "channel", "messages"):
        return Detection("discord_export", "a DiscordChatExporter JSON export")
    if has("channel_id", "author") or has("thread", "guild_id"):
        return Detection("discord_export", "Discord API messages")
    if has("room_name") or '"m.room.' in head:
        return Detection("matrix_export", "a Matrix (Element) room export")
    if has("post_stream"):
        return Detection("discourse_archive", "a Discourse topic")
    if has("discussions") and has("repository"):
        return Detection("github_discussions", "GitHub Discussions (GraphQL)")
    if re.search(r'"type":\s*"(issue|pull_request)"', head) and has("repository_url"):
        return Detection("github_archive", "github-metadata-backup issues")
    if '"zerver_' in head:
        return Detection("zulip_export", "a Zulip export")
    return None


def _markup(head: str) -> Detection | None:
    lowered = head[:HEAD].lower()
    if "<posts" in lowered and "<row " in lowered:
        return Detection("stackexchange_dump", "Stack Exchange posts")
    if re.search(r"<rss[\s>]", lowered) or re.search(r"<feed[\s>]", lowered):
        return Detection("rss", "an RSS / Atom feed")
    if "discordchatexporter" in lowered or "chatlog__" in lowered or "tyrrrz/discordfonts" in lowered:
        return Detection("discord_export", "a DiscordChatExporter HTML export")
    return None
