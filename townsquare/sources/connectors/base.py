"""The connector interface: a connector turns one Source into a stream of normalised records.

``fetch(cursor)`` yields, in order:

* :class:`MessageRecord` for every message it could read,
* :class:`RecordError` for every record it could not (the run keeps going),
* :class:`Checkpoint` whenever everything yielded so far may be committed and a
  later run may restart from ``Checkpoint.cursor`` (API connectors: a date or page).

Archive connectors may yield no checkpoints: the service then counts records, and an
interrupted import of the same archive skips what it already committed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings

from townsquare.core.errors import TownsquareError
from townsquare.people.refs import IdentityRef

if TYPE_CHECKING:
    from townsquare.sources.models import Source


@dataclass(slots=True)
class ChannelRef:
    external_id: str
    name: str
    url: str = ""


@dataclass(slots=True)
class MessageRecord:
    external_id: str
    kind: str
    created_at: dt.datetime | None
    channel: ChannelRef | None = None
    author: IdentityRef | None = None
    updated_at: dt.datetime | None = None
    title: str = ""
    body: str = ""
    body_html: str = ""
    url: str = ""
    thread_external_id: str = ""
    parent_external_id: str = ""
    language: str = ""


@dataclass(slots=True)
class RecordError:
    """A record the connector could not read: ``record`` names it (id, file:line, page), ``reason`` says why."""

    record: str
    reason: str


@dataclass(slots=True)
class IdentityAlias:
    """One person went by ``old`` and then by ``new`` in ``realm`` (an IRC nick change): a merge to suggest."""

    realm: str
    old: str
    new: str


@dataclass(slots=True)
class MessageDeleted:
    """The message ``external_id`` was deleted upstream (a Matrix redaction): its stored text is removed."""

    external_id: str


@dataclass(slots=True)
class Checkpoint:
    cursor: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class UnitDone:
    """Every record of one unit (an archive member, a file) has been yielded; ``fingerprint`` identifies its bytes.

    When a later import sees the same fingerprint, the connector yields :class:`UnitSkipped`
    instead of re-reading the unit: a no-change re-run costs a directory listing.
    """

    key: str
    fingerprint: str
    count: int


@dataclass(slots=True)
class UnitSkipped:
    key: str
    count: int


Record = MessageRecord | RecordError | IdentityAlias | MessageDeleted | Checkpoint | UnitDone | UnitSkipped


class Connector:
    """Base class. Subclasses set ``kind`` and implement :meth:`fetch`.

    ``path`` is the archive to read (archive kinds); API kinds read ``source.config``
    and ``source.secrets``. ``progress`` is (done, total) in connector-defined units,
    updated while fetching, for progress bars.
    """

    kind: ClassVar[str] = ""
    # A class default that an instance may change (a Pipermail source given a URL instead of files).
    is_archive: bool = False

    def __init__(self, source: Source, *, path: str | Path | None = None) -> None:
        self.source = source
        self.config: dict[str, Any] = dict(source.config or {})
        configured = path or self.config.get("path")
        self.path: Path | None = Path(configured) if configured else None
        self.progress: tuple[int, int] = (0, 0)
        # {unit key: [fingerprint, record count]} from the last complete import (see UnitDone)
        self.fingerprints: dict[str, list[Any]] = {}

    def fetch(self, cursor: dict[str, Any]) -> Iterator[Record]:
        raise NotImplementedError

    def secrets(self) -> dict[str, Any]:
        """The source's secrets: a JSON object (``{"token": ...}``), or a bare token."""
        return parse_secrets(self.source.secrets or "")

    def check(self) -> str:
        """A connection test: return a one-line description of what was found, or raise TownsquareError."""
        if self.is_archive:
            path = self.require_path()
            return f"archive {path.name} is readable ({path.stat().st_size:,} bytes)"
        raise TownsquareError("this kind has no connection test", permanent=True)

    def require_path(self) -> Path:
        if self.path is None:
            raise TownsquareError("no archive given: upload one or set config.path", record=self.source.name)
        if not self.path.exists():
            raise TownsquareError(f"archive {self.path} does not exist", record=self.source.name)
        return self.path

    def folder_name(self, folder: Path) -> str:
        """The name of the folder holding an archive, which connectors use for a channel, list or site.

        An upload lands in ``uploads/<random id>/``: that name stands for nothing and changes with every
        upload, so uploading the same archive again would make new channels, identities and messages.
        The source's name stands in for it.
        """
        uploads = (Path(settings.DATA_DIR) / "uploads").resolve()
        try:
            relative = folder.resolve().relative_to(uploads)
        except (ValueError, OSError):
            return folder.name
        return self.source.name if len(relative.parts) <= 1 else folder.name

    @property
    def realm(self) -> str:
        """Identity namespace; connectors override with e.g. ``slack:T024BE7LD``."""
        return self.config.get("realm") or self.kind


def parse_secrets(raw: str) -> dict[str, Any]:
    """Stored secrets as a dict: a JSON object, or a bare token (``{"token": raw}``)."""
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return {"token": raw.strip()}
    return value if isinstance(value, dict) else {"token": str(value)}


def parse_iso(value: str | None) -> dt.datetime | None:
    """ISO 8601 with Z or offset; naive values are taken as UTC."""
    if not value:
        return None
    value = value.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def from_epoch(value: float | str) -> dt.datetime:
    return dt.datetime.fromtimestamp(float(value), tz=dt.UTC)
