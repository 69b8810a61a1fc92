from __future__ import annotations

import argparse
import hashlib
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.staticfiles.finders import get_finders
from django.core.management import call_command
from django_rich.management import RichCommand

from townsquare.core.scheduling import schedules_sync

SIGNATURE_FILE = ".townsquare-static-signature"


def static_signature() -> str:
    """A fingerprint of every static source file (path, size, mtime): unchanged means nothing to collect."""
    digest = hashlib.sha256()
    for finder in get_finders():
        for path, storage in finder.list([]):
            stat = Path(storage.path(path)).stat()
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


class Command(RichCommand):
    help = "Prepare this installation: migrate the database, collect static files, create roles and schedules."

    def add_arguments(self, parser: Any) -> None:
        # For commands that run init first and then say themselves what comes next (the demo prints its logins).
        parser.add_argument("--no-next-step", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options["verbosity"]
        self.console.print("[bold]Migrating the database[/bold]")
        call_command("migrate", interactive=False, verbosity=max(verbosity - 1, 0))
        # The database cache's table (API throttling counts): Django makes it on demand, not in migrations.
        call_command("createcachetable", verbosity=max(verbosity - 1, 0))
        marker = Path(settings.STATIC_ROOT) / SIGNATURE_FILE
        signature = static_signature()
        if marker.exists() and marker.read_text() == signature:
            self.console.print("Static files are up to date")
        else:
            self.console.print("[bold]Collecting and compressing static files[/bold]")
            call_command("collectstatic", interactive=False, verbosity=0)
            marker.write_text(signature)
        schedules = schedules_sync()
        self.console.print(f"Recurring jobs: {', '.join(s.name for s in schedules) or 'none'}")
        if not options["no_next_step"]:
            self.console.print(f"[green]Ready.[/green] {next_step()}")


def next_step() -> str:
    """What to do after init: an administrator first, if there is none yet (the demo makes its own logins)."""
    if get_user_model().objects.filter(is_superuser=True, is_active=True).exists():
        return "Start it with [bold]townsquare serve[/bold]."
    return "Create an administrator with [bold]townsquare createsuperuser[/bold]."
