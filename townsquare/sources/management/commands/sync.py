from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError
from django_rich.management import RichCommand
from rich.markup import escape

from townsquare.sources import services
from townsquare.sources.management.commands._progress import RunProgress, summary_table
from townsquare.sources.models import Source


class Command(RichCommand):
    help = "Sync one source by name, or every enabled source; one failing never stops the others."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("source", nargs="*", help="Source name(s); all enabled sources when omitted.")

    def handle(self, *args: Any, **options: Any) -> None:
        names = options["source"]
        if names:
            known = set(Source.objects.filter(name__in=names).values_list("name", flat=True))
            unknown = [n for n in names if n not in known]
            if unknown:
                raise CommandError(f"unknown source(s): {', '.join(unknown)}")
        rows = services.sources_to_sync(names=names)
        if not rows:
            self.console.print("No enabled sources with something to read.")
            return
        runs = []
        for source in rows:
            with RunProgress(self.console, f"{escape(source.name)}") as progress:
                runs.append(services.source_sync(source=source, progress=progress.update))
        self.console.print(summary_table(runs))
        if any(run.status == "failed" for run in runs):
            raise CommandError(f"{sum(run.status == 'failed' for run in runs)} of {len(runs)} source(s) failed")
