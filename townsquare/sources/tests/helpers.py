from __future__ import annotations

import collections
from pathlib import Path
from typing import Any

from townsquare.sources.connectors import connector_for
from townsquare.sources.connectors.base import Checkpoint, MessageRecord, RecordError, UnitDone, UnitSkipped
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
            assert isinstance(item, (Checkpoint, UnitDone, UnitSkipped))
    return records, errors


def kinds(records: list[MessageRecord]) -> dict[str, int]:
    return dict(collections.Counter(r.kind for r in records))
