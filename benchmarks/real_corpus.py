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


TRAINING = ROOT / "townsquare" / "feedback" / "training"


def labelled(*names: str) -> dict[str, list[tuple[str, str, bool, str]]]:
    """Hand-labelled real messages of ``training/<name>`` files as ``(label, message kind, starts thread, text)``.

    Call after ``django.setup()``; the archives are read once for all the files. Each row is matched to its
    record in ``../shared/data``: by (archive kind, external_id) for real_train.tsv and real_holdout.tsv, by
    external_id alone for eval_real.tsv (its source column names the demo export, e.g. discord_api). The text
    is the file's own when it has one (what training reads), else ``text.prepare(title, body)`` of the record
    (real_holdout.tsv ships no text). Raises KeyError when a row has no record (archives missing or changed).
    """
    from townsquare.sources.text import prepare

    wanted: dict[str, list[tuple[str, str, str, str | None]]] = {}
    for name in names:
        wanted[name] = []
        for line in (TRAINING / name).read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                label, source, external_id, *text = line.split("\t", 3)
                wanted[name].append((label, source, external_id, text[0] if text else None))
    ids = {row[2] for rows in wanted.values() for row in rows}
    found: dict[tuple[str, str], tuple[str, bool, str]] = {}
    for kind, record in records():
        if record.external_id in ids:
            row = (record.kind, starts_thread(record), prepare(record.title, record.body))
            found[(kind, record.external_id)] = row
            found.setdefault(("", record.external_id), row)
    out: dict[str, list[tuple[str, str, bool, str]]] = {}
    for name, rows in wanted.items():
        out[name] = []
        for label, source, external_id, text in rows:
            kind, starts, prepared = found.get((source, external_id)) or found[("", external_id)]
            out[name].append((label, kind, starts, prepared if text is None else text))
    return out


def _who(record: Any) -> str:
    author = record.author
    if author is None:
        return ""
    return f"{author.realm}:{author.external_id or author.handle or author.email or author.display_name}"


def labelled_threads(*names: str) -> dict[str, list[dict[str, Any]]]:
    """Like ``labelled``, with each row's thread: a dict of ``label``, ``kind``, ``starts``, ``text``, ``reply``
    (does not open its thread), ``by_other`` (a reply whose author is not the opener's), ``opener`` (the
    opener's prepared text, "" when the opener is not in the archive or is the row itself) and ``community``
    (the archive path: one community, what leave-one-community-out holds out together).
    """
    from townsquare.sources.text import prepare

    wanted: dict[str, list[tuple[str, str, str, str | None]]] = {}
    for name in names:
        wanted[name] = []
        for line in (TRAINING / name).read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                label, source, external_id, *text = line.split("\t", 3)
                wanted[name].append((label, source, external_id, text[0] if text else None))
    ids = {row[2] for rows in wanted.values() for row in rows}
    by_archive: dict[str, dict[str, Any]] = {}  # archive path -> external_id -> record
    found: dict[tuple[str, str], tuple[str, Any]] = {}
    for kind, relative, config in ARCHIVES:
        path = SHARED_DATA / relative
        if not path.exists():
            continue
        from townsquare.sources.connectors import connector_for
        from townsquare.sources.connectors.base import MessageRecord
        from townsquare.sources.models import Source

        source = Source(kind=kind, name=f"bench {relative}", config=config)
        records_here: dict[str, Any] = {}
        for item in connector_for(source, path=path).fetch({}):
            if isinstance(item, MessageRecord):
                records_here[item.external_id] = item
                if item.external_id in ids:
                    found.setdefault((kind, item.external_id), (relative, item))
                    found.setdefault(("", item.external_id), (relative, item))
        by_archive[relative] = records_here
    out: dict[str, list[dict[str, Any]]] = {}
    for name, rows in wanted.items():
        out[name] = []
        for label, source, external_id, text in rows:
            relative, record = found.get((source, external_id)) or found[("", external_id)]
            opener_id = record.thread_external_id or ""
            opener = by_archive[relative].get(opener_id) if opener_id != record.external_id else None
            reply = not starts_thread(record)
            out[name].append(
                {
                    "label": label,
                    "kind": record.kind,
                    "starts": not reply,
                    "text": prepare(record.title, record.body) if text is None else text,
                    "reply": reply,
                    "by_other": reply and opener is not None and _who(opener) != _who(record),
                    "opener": prepare(opener.title, opener.body) if opener is not None else "",
                    "community": relative,
                }
            )
    return out
