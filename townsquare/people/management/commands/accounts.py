from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError
from django_rich.management import RichCommand
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from townsquare.core.errors import TownsquareError
from townsquare.people.crm import FIELDS, accounts_import_csv

log = logging.getLogger(__name__)


def _mapping(pairs: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs:
        column, sep, name = pair.rpartition("=")
        if not sep or not column.strip() or name.strip() not in FIELDS:
            raise CommandError(f"--map {pair!r}: expected COLUMN=FIELD with FIELD one of {', '.join(FIELDS)}")
        mapping[column.strip()] = name.strip()
    return mapping


class Command(RichCommand):
    help = "Customer accounts from the CRM: `accounts import CSV [--map COLUMN=FIELD ...] [--dry-run]`."

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        importer = actions.add_parser("import", help="Create or update accounts from a CRM CSV export (idempotent).")
        importer.add_argument("csv", metavar="CSV", help="Path of the CSV export.")
        importer.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="COLUMN=FIELD",
            help=f"Which column holds which field ({', '.join(FIELDS)}); unmapped fields are guessed from headers.",
        )
        importer.add_argument("--dry-run", action="store_true", help="Report what would change; change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["csv"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        mapping = _mapping(options["map"])
        total = max(sum(1 for _ in path.open("rb")) - 1, 0)
        try:
            if self.console.is_terminal:
                with Progress(
                    TextColumn("Importing accounts"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    console=self.console,
                    transient=True,
                ) as bar:
                    task = bar.add_task("import", total=total)
                    report = accounts_import_csv(
                        path_or_file=path,
                        mapping=mapping,
                        dry_run=options["dry_run"],
                        progress=lambda done: bar.update(task, completed=done),
                    )
            else:

                def note(done: int) -> None:
                    if done % 1000 == 0:
                        self.console.print(f"… {done} rows")

                report = accounts_import_csv(
                    path_or_file=path, mapping=mapping, dry_run=options["dry_run"], progress=note
                )
        except TownsquareError as exc:
            raise CommandError(str(exc)) from None
        mapped = ", ".join(f"{escape(column)} → {name}" for column, name in report.mapping.items())
        self.console.print(f"Columns: {mapped}")
        verb = "Would create" if report.dry_run else "Created"
        self.console.print(
            f"{verb} {report.created}, {'would update' if report.dry_run else 'updated'} {report.updated}, "
            f"unchanged {report.unchanged}; {report.organizations_created} new organisations, "
            f"{report.members_linked} members linked; {len(report.errors)} bad rows."
        )
        if report.errors:
            table = Table(title="Bad rows (skipped)")
            table.add_column("line", justify="right")
            table.add_column("crm id")
            table.add_column("reason")
            for error in report.errors:
                table.add_row(str(error.line), escape(error.crm_id), escape(error.reason))
            self.console.print(table)
        if report.dry_run:
            self.console.print("Dry run: nothing was changed.")
