"""Whether the process that runs a sync is still there: at once on this host, by heartbeat on another.

A run records the host (name and boot id), pid and the pid's start time of the process running it. On the
same host a dead process is known at once (the pid is gone, a zombie, or reused by a process that started
later); another host's process can only be judged by its heartbeat, refreshed while the run reads.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from townsquare.sources.models import SyncRun

# A queued run has no process yet: it waits for a worker, alive while this recent (the caller's choice).
QUEUED_WINDOW = dt.timedelta(minutes=10)


@cache
def this_host() -> str:
    """Host name and boot id: after a reboot, or in another container, no pid of an old run means anything."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:8]
    except OSError:
        boot = ""
    return f"{socket.gethostname()}/{boot}"[:300]


def process_started(pid: int) -> int | None:
    """The process's start time (clock ticks since boot, from /proc), or None where /proc cannot say."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
    fields = stat.rpartition(")")[2].split()
    try:
        return int(fields[19])  # field 22 of proc(5), the 20th after the name
    except (IndexError, ValueError):
        return None


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def pid_alive(pid: int, started: int | None) -> bool:
    """True while ``pid`` is the same running process (not gone, not a zombie, not a later process reusing it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    except OSError:
        return False
    if _zombie(pid):
        return False
    if started is not None:
        now = process_started(pid)
        if now is not None and now != started:
            return False
    return True


def run_alive(run: SyncRun, *, now: dt.datetime) -> bool:
    """Whether an unfinished run's process may still be writing to it."""
    heartbeat = run.heartbeat_at
    if run.pid is None:  # queued, or started before runs recorded their process
        return heartbeat is not None and heartbeat >= now - QUEUED_WINDOW
    if run.host == this_host():
        return pid_alive(run.pid, run.pid_started)
    stale = dt.timedelta(seconds=int(settings.SYNC_STALE_SECONDS))
    return heartbeat is not None and heartbeat >= now - stale
