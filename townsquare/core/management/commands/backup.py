from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError
from django_rich.management import RichCommand
from rich.markup import escape

from townsquare.core.backup import backup_create
from townsquare.core.errors import TownsquareError


class Command(RichCommand):
    help = (
        "Back up the database (every table), the encryption keys' fingerprints (never the keys) and the uploads "
        "into a new folder: `backup PATH`."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("path", metavar="PATH", help="A folder to create (it must not exist, or be empty).")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"]).expanduser()
        verbose = options["verbosity"] > 1
        try:
            manifest = backup_create(path=path, say=self._say if verbose else lambda line: None)
        except TownsquareError as exc:
            raise CommandError(str(exc)) from None
        rows = sum(manifest["tables"].values())
        self.console.print(
            f"Backed up {len(manifest['tables'])} tables ({rows:,} rows) and {manifest['uploads']:,} uploaded files "
            f"to {escape(str(path))}. Keep TOWNSQUARE_ENCRYPTION_KEYS safe separately: the backup holds only "
            "their fingerprints."
        )

    def _say(self, line: str) -> None:
        self.console.print(escape(line))
