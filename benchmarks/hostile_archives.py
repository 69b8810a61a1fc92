"""Hostile archives: the memory a zip bomb and a deeply nested member cost an import, and that the rest is kept.

    .venv/bin/python benchmarks/hostile_archives.py
    .venv/bin/python benchmarks/hostile_archives.py --bomb-mb 500

Builds a Slack export of a few good days plus a ~200 KB zip member that inflates to 100 MB (a zip bomb)
and a member of "[" * 200,000 (JSON nested too deeply), imports it through the real service into a fresh
SQLite database, and prints the archive size, the peak Python allocation during the import (tracemalloc),
the process's peak RSS growth (getrusage), and what the run kept and rejected. Target: the peak stays far
below the bomb's inflated size (it is refused from its declared size, never inflated), every good day is
imported, and each hostile member is one error naming it.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import tracemalloc
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import fresh_django


def build(path: Path, bomb_mb: int) -> None:
    def day(ts: str, text: str) -> str:
        return json.dumps([{"type": "message", "user": "U1", "text": text, "ts": ts}])

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("channels.json", json.dumps([{"id": "C1", "name": "general"}]))
        archive.writestr("users.json", json.dumps([{"id": "U1", "team_id": "T1", "name": "ana"}]))
        archive.writestr("general/2024-01-01.json", day("1704067200.000100", "before the bomb"))
        with archive.open("general/2024-01-02.json", "w", force_zip64=True) as member:
            member.write(b"[")
            chunk = b" " * 1024**2
            for _ in range(bomb_mb):
                member.write(chunk)
            member.write(b"]")
        archive.writestr("general/2024-01-03.json", "[" * 200_000)
        archive.writestr("general/2024-01-04.json", day("1704326400.000100", "after the bomb"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bomb-mb", type=int, default=100, help="Inflated size of the bomb member (MB).")
    args = parser.parse_args()
    with fresh_django(), tempfile.TemporaryDirectory() as tmp:
        from townsquare.sources import services
        from townsquare.sources.models import Message, Source, SyncError

        path = Path(tmp) / "bomb.zip"
        build(path, args.bomb_mb)
        source = Source.objects.create(name="hostile", kind="slack_export")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tracemalloc.start()
        run = services.archive_import(source=source, path=path)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"archive: {path.stat().st_size / 1024:,.0f} KB holding a {args.bomb_mb:,} MB member")
        print(f"peak Python allocation during the import: {peak / 1024**2:,.1f} MB")
        print(f"peak RSS growth during the import: {(rss_after - rss_before) / 1024:,.1f} MB")
        print(f"run: {run.status}, new {run.new}, rejected {run.rejected}")
        for error in SyncError.objects.filter(run=run):
            print(f"  {error.record}: {error.reason}")
        kept = sorted(Message.objects.values_list("body", flat=True))
        print(f"kept: {kept}")
        from django.conf import settings

        refused = args.bomb_mb > settings.IMPORT_MAX_MEMBER_MB  # else it is read (and costs about twice its size)
        ok = kept == ["after the bomb", "before the bomb"] and run.rejected == 1 + refused
        ok = ok and (peak < 50 * 1024**2 or not refused)
        print("target met" if ok else "TARGET MISSED")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
