from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django_rich.management import RichCommand
from rich.table import Table

from townsquare.home.demo import DEMO_PASSWORD, USERS, demo_workspace_load


class Command(RichCommand):
    help = "Load the demo workspace (idempotent); with --serve also start a worker and the web server."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--serve", action="store_true", help="Then serve on --bind with a background worker.")
        parser.add_argument("--bind", default="127.0.0.1:8000")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.MODE == "production":
            raise CommandError("the demo has well-known passwords: refusing to load it with TOWNSQUARE_MODE=production")
        call_command("init", verbosity=options["verbosity"], no_next_step=True)
        counts = demo_workspace_load()
        self.console.print("Demo workspace: " + ", ".join(f"{key} {value:,}" for key, value in counts.items()))
        self.console.print(
            "Same handle on two channels is only a suggestion: in the demo, its DevRel lead dana accepted the "
            "Acme Cloud ones (People › Merge history shows them, each can be undone); in your own workspace "
            "they wait for a curator on People › Merge suggestions."
        )
        table = Table(title=f"Demo logins (password for all: {DEMO_PASSWORD})")
        table.add_column("username")
        table.add_column("name")
        table.add_column("role")
        table.add_column("team")
        for person in USERS:
            table.add_row(person.username, person.full_name, person.role.label, person.team)
        self.console.print(table)
        self.console.print(
            f"Log in with any of these; dana (DevRel lead) sees everything. The password is {DEMO_PASSWORD}."
        )
        if options["serve"]:
            self.console.print(f"Open [bold]http://{options['bind']}/[/bold] and log in as dana (DevRel lead).")
            call_command("serve", bind=options["bind"], with_worker=True)
