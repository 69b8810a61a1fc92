"""The folders a source may read: its uploads and the operator's import folder, nowhere else.

A DevRel member sets ``config.path`` in a form, so without this check any file the server can read
(``/etc/passwd``, the secret key, another tenant's export) could be imported as messages. The check runs
on the resolved path (``..`` and links followed) and, for a folder, on every link inside it, because the
folder readers (IRC logs, mbox folders, Supybot) walk it recursively.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

from townsquare.core.errors import TownsquareError

PACKAGED_DEMO_DATA = Path(__file__).resolve().parent / "demo_data"


def allowed_roots() -> list[Path]:
    """Uploads, the demo loader's folders, and ``TOWNSQUARE_IMPORT_DIR`` when it is set; all resolved."""
    data = Path(settings.DATA_DIR)
    roots = [data / "uploads", data / "demo", PACKAGED_DEMO_DATA]
    if settings.SOURCES_IMPORT_DIR:
        roots.append(Path(settings.SOURCES_IMPORT_DIR))
    return [root.resolve() for root in roots]


def path_confined(path: str | Path, *, record: str) -> Path:
    """``path`` resolved, or a TownsquareError naming ``record`` when it (or a link inside it) leaves the roots."""
    roots = allowed_roots()
    resolved = _resolve(path, record=record)
    if not _inside(resolved, roots):
        raise TownsquareError(f"config.path {str(path)!r}: {_outside()}", record=record, permanent=True)
    if resolved.is_dir():
        for folder, dirs, files in os.walk(resolved):
            for name in [*dirs, *files]:
                entry = Path(folder) / name
                if entry.is_symlink() and not _inside(_resolve(entry, record=record), roots):
                    raise TownsquareError(
                        f"config.path {str(path)!r}: the link {entry.relative_to(resolved)} points outside; {_outside()}",
                        record=record,
                        permanent=True,
                    )
    return resolved


def _outside() -> str:
    if settings.SOURCES_IMPORT_DIR:
        return (
            f"sources may read only uploaded archives and files under TOWNSQUARE_IMPORT_DIR "
            f"({settings.SOURCES_IMPORT_DIR}): upload the archive, or move it under that folder"
        )
    return "sources may read only uploaded archives (TOWNSQUARE_IMPORT_DIR is not set): upload the archive instead"


def _resolve(path: str | Path, *, record: str) -> Path:
    try:
        return Path(path).expanduser().resolve()
    except (OSError, RuntimeError) as exc:  # a link loop
        raise TownsquareError(f"config.path {str(path)!r} cannot be resolved: {exc}", record=record) from exc


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(path.is_relative_to(root) for root in roots)
