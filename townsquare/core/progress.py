"""Progress for long CLI work: a rich progress bar in a terminal, plain log lines otherwise."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

T = TypeVar("T")
logger = logging.getLogger("townsquare.progress")


def track(
    items: Iterable[T],
    *,
    description: str,
    total: int | None = None,
    console: Console | None = None,
    log_every: int = 10_000,
) -> Iterator[T]:
    """Yield ``items`` while showing progress; without a terminal, log every ``log_every`` items."""
    console = console or Console(stderr=True)
    if console.is_terminal:
        columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
        if total:
            columns.append(TimeRemainingColumn())
        with Progress(*columns, console=console, transient=False) as progress:
            task_id = progress.add_task(description, total=total)
            for item in items:
                yield item
                progress.advance(task_id)
        return
    start = time.monotonic()
    done = 0
    for item in items:
        yield item
        done += 1
        if done % log_every == 0:
            rate = done / max(time.monotonic() - start, 1e-9)
            logger.info("%s: %d%s done (%.0f/s)", description, done, f"/{total}" if total else "", rate)
    logger.info("%s: finished %d in %.1f s", description, done, time.monotonic() - start)
