from __future__ import annotations

import collections
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import pytest

from townsquare.core.errors import TownsquareError
from townsquare.sources.connectors import CONNECTORS, connector_for
from townsquare.sources.connectors.base import (
    Checkpoint,
    Connector,
    IdentityAlias,
    MessageDeleted,
    MessageRecord,
    Record,
    RecordError,
    UnitDone,
    UnitSkipped,
)
from townsquare.sources.models import Source

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT.parent / "shared" / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def read(kind: str, path: Path | str, **config: Any) -> tuple[list[MessageRecord], list[RecordError]]:
    source = Source(kind=kind, name=f"test {kind}", config=config)
    records, errors = [], []
    for item in connector_for(source, path=path).fetch({}):
        if isinstance(item, MessageRecord):
            records.append(item)
        elif isinstance(item, RecordError):
            errors.append(item)
        else:
            assert isinstance(item, (Checkpoint, UnitDone, UnitSkipped, IdentityAlias, MessageDeleted))
    return records, errors


def kinds(records: list[MessageRecord]) -> dict[str, int]:
    return dict(collections.Counter(r.kind for r in records))


class GoesAwayAfter(Connector):
    """A source that goes away mid-run: the real connector's first ``fail_after`` records, then an error.

    Put it before a real connector class (``class Crashing(GoesAwayAfter, MBoxConnector)``) and
    register the subclass for that kind with ``registered``: the run reads the real source and its
    real cursor, and the next run (the real connector again) must resume where this one stopped.
    """

    fail_after: ClassVar[int] = 0

    def fetch(self, cursor: dict[str, Any]) -> Iterator[Record]:
        read = 0
        for item in super().fetch(cursor):
            if isinstance(item, (MessageRecord, RecordError)):
                if read == self.fail_after:
                    raise self.failure(read + 1)
                read += 1
            yield item

    def failure(self, record: int) -> BaseException:
        """What stops the run at ``record``: the source's error (override it to kill the process instead)."""
        return TownsquareError("the connection was reset", record=f"record {record}", permanent=False)


@contextmanager
def registered(monkeypatch: pytest.MonkeyPatch, kind: str, connector: type[Connector]) -> Iterator[None]:
    """``connector`` serves ``kind`` inside the block, registered by dotted path as the real ones are."""
    with monkeypatch.context() as patch:
        patch.setitem(CONNECTORS, kind, f"{connector.__module__}.{connector.__qualname__}")
        yield
