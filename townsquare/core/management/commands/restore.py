from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError
from django_rich.management import RichCommand
from rich.markup import escape

from townsquare.core.backup import backup_restore
from townsquare.core.errors import TownsquareError


class Command(RichCommand):
    help = (
        "Replace this installation's database and uploads with a backup's: `restore PATH`. Refused when the "
        "configured encryption keys or the Townsquare version do not match the backup's."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("path", metavar="PATH", help="A folder written by `townsquare backup`.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"]).expanduser()
        verbose = options["verbosity"] > 1
        try:
            manifest = backup_restore(path=path, say=self._say if verbose else lambda line: None)
        except TownsquareError as exc:
            raise CommandError(str(exc)) from None
        rows = sum(manifest["tables"].values())
        self.console.print(
            f"Restored {len(manifest['tables'])} tables ({rows:,} rows) and {manifest['uploads']:,} uploaded files "
            f"from {escape(str(path))} (made {escape(manifest['created_at'])}). The feedback vector index is "
            "rebuilt from the stored embeddings by the next feedback sweep."
        )

    def _say(self, line: str) -> None:
        self.console.print(escape(line))
