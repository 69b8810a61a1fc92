"""Progress display for sync/import: a rich bar on a terminal, a log line per batch otherwise."""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any, Self

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from townsquare.sources.models import SyncRun

logger = logging.getLogger("townsquare.sources.cli")


class RunProgress:
    def __init__(self, console: Console, label: str) -> None:
        self.console = console
        self.label = label
        self.bar: Progress | None = None
        self.task: Any = None

    def __enter__(self) -> Self:
        if self.console.is_terminal:
            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[counts]}"),
                TimeElapsedColumn(),
                console=self.console,
            )
            self.bar.start()
            self.task = self.bar.add_task(escape(self.label), total=None, counts="")
        return self

    def update(self, run: SyncRun) -> None:
        counts = f"new {run.new:,} · updated {run.updated:,} · unchanged {run.unchanged:,} · rejected {run.rejected:,}"
        if self.bar is not None:
            self.bar.update(self.task, completed=run.progress_done, total=run.progress_total or None, counts=counts)
        else:
            self.console.print(f"{self.label}: run {run.pk} {counts}", markup=False, highlight=False)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.bar is not None:
            self.bar.stop()


def summary_table(runs: list[SyncRun]) -> Table:
    table = Table(title="Sync results")
    for column in ("source", "run", "status", "new", "updated", "unchanged", "rejected", "error"):
        table.add_column(
            column, justify="right" if column in ("new", "updated", "unchanged", "rejected", "run") else "left"
        )
    for run in runs:
        table.add_row(
            escape(run.source.name),
            str(run.pk),
            run.status,
            f"{run.new:,}",
            f"{run.updated:,}",
            f"{run.unchanged:,}",
            f"{run.rejected:,}",
            escape(run.error[:120]),
        )
    return table
