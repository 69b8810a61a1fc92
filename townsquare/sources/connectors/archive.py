"""Archive importers that read a folder of JSON files (or one file), each file a unit of records."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from townsquare.sources.connectors._util import Unreadable, guarded, load_json_file
from townsquare.sources.connectors.base import Connector, Record, RecordError


def not_valid_json(exc: Exception) -> str:
    return str(exc)


def json_file_records(
    connector: Connector,
    files: Sequence[Path],
    records: Callable[[Any, str], Iterator[Record]],
    *,
    unreadable: Callable[[Exception], str] = not_valid_json,
) -> Iterator[Record]:
    """Parse each file (gzipped or not) and yield ``records(data, file name)``, reporting progress per file.

    A file that cannot be read, is too large, too deeply nested or not JSON becomes one RecordError naming
    the file (its reason from ``unreadable``) and the import goes on with the next file.
    """
    for number, file in enumerate(files, start=1):
        connector.progress = (number - 1, len(files))
        try:
            data = load_json_file(file)
        except Unreadable as exc:
            yield RecordError(record=file.name, reason=unreadable(exc))
            continue
        yield from guarded(records(data, file.name), record=file.name)
    connector.progress = (len(files), len(files))
