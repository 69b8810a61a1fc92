from __future__ import annotations

import io
import logging

from rich.console import Console

from townsquare.core.progress import track


def test_without_a_terminal_it_logs_plain_lines(caplog) -> None:
    console = Console(file=io.StringIO(), force_terminal=False)
    with caplog.at_level(logging.INFO, logger="townsquare.progress"):
        assert list(track(range(25), description="importing", total=25, console=console, log_every=10)) == list(
            range(25)
        )
    messages = [record.getMessage() for record in caplog.records]
    assert messages[0].startswith("importing: 10/25 done")
    assert messages[1].startswith("importing: 20/25 done")
    assert messages[2].startswith("importing: finished 25")
    assert console.file.getvalue() == ""


def test_in_a_terminal_it_draws_a_progress_bar(caplog) -> None:
    output = io.StringIO()
    console = Console(file=output, force_terminal=True, width=80)
    assert sum(track(range(5), description="embedding", total=5, console=console)) == 10
    assert "embedding" in output.getvalue()
    assert "5/5" in output.getvalue()
    assert caplog.records == []
