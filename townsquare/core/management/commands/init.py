from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django_rich.management import RichCommand

from townsquare.core.scheduling import schedules_sync


class Command(RichCommand):
    help = "Prepare this installation: migrate the database, collect static files, create roles and schedules."

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options["verbosity"]
        self.console.print("[bold]Migrating the database[/bold]")
        call_command("migrate", interactive=False, verbosity=max(verbosity - 1, 0))
        self.console.print("[bold]Collecting static files[/bold]")
        call_command("collectstatic", interactive=False, verbosity=0)
        schedules = schedules_sync()
        self.console.print(f"Recurring jobs: {', '.join(s.name for s in schedules) or 'none'}")
        self.console.print("[green]Ready.[/green] Create an administrator with [bold]townsquare createsuperuser[/bold].")
