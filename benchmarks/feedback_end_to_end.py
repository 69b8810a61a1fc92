"""The feedback loop end to end on a large corpus of real community messages.

    .venv/bin/python benchmarks/feedback_end_to_end.py                      # 1,000,000 messages, SQLite
    .venv/bin/python benchmarks/feedback_end_to_end.py --messages 20000     # a quick look
    .venv/bin/python benchmarks/feedback_end_to_end.py --database-url postgres://postgres@127.0.0.1:5432/bench

Target (issue 5): 1,000,000 messages processed end to end in under 45 minutes with memory under 4 GiB,
on a 2-core machine.

The corpus: every message of the real archives in ../shared/data, read by our own connectors (about
16,000 messages: IRC, Slack, Discord, Discourse, GitHub issues, mailing lists, Stack Exchange), drawn
at random (with replacement) into ``--messages`` messages by ``--people`` people over 8 channels and
the last 52 weeks; thread starters keep their titles, replies point at an earlier thread of their
channel. It goes through the product's own code, stage by stage, each timed:

1. ingest: the records are upserted by ``sources.services.source_sync`` (identities, members, channels);
2. process: ``feedback.services.messages_process_pending``: pre-filter, int8 ONNX embeddings, the
   classifier, incremental assignment to themes (touched themes refreshed every FLUSH_EVERY seconds and at the end);
3. regroup: ``themes_recluster`` over the last ``--days`` days (proposals only);
4. refresh: ``themes_refresh_all`` (scores, counts, key phrases).

It prints each stage's time and rate, the embedding runtime in use, how many messages the pre-filter
passed on to the model, the themes found, and the peak RSS of the process (getrusage).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHANNELS = {  # channel name per archive kind of the pool
    "irc_log": ["#help", "#dev"],
    "slack_export": ["#general", "#feedback"],
    "discord_export": ["#support", "#showcase"],
    "discourse_archive": ["forum"],
    "github_archive": ["issues"],
    "pipermail": ["users-list"],
    "stackexchange_dump": ["forum"],
}


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """CPU time of this process, all threads: on a 2-core machine the sweep is bound by it."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class PoolConnector:
    """Yields ``count`` records drawn from the real pool (benchmark only; registered under its own kind)."""

    kind = "bench_pool"
    realm = "bench"
    is_archive = False
    count = 0
    pool: ClassVar[list[tuple[str, Any, bool]]] = []
    people = 50_000

    def __init__(self, source: Any, *, path: Any = None) -> None:
        self.source = source
        self.config: dict[str, Any] = {}
        self.fingerprints: dict[str, Any] = {}
        self.progress = (0, 0)

    def fetch(self, cursor: dict[str, Any]) -> Iterator[Any]:
        from townsquare.people.refs import IdentityRef
        from townsquare.sources.connectors.base import ChannelRef, Checkpoint, MessageRecord

        rng = random.Random(11)
        now = dt.datetime.now(dt.UTC)
        start = now - dt.timedelta(weeks=52)
        step = (now - start) / max(self.count, 1)
        threads: dict[str, list[str]] = {}
        for i in range(self.count):
            kind, record, starts = self.pool[rng.randrange(len(self.pool))]
            channel = rng.choice(CHANNELS.get(kind, ["#general"]))
            # a core of regulars writes most messages; a long tail writes a few each
            author = (
                int(rng.paretovariate(1.1) * 20) % self.people if rng.random() < 0.6 else rng.randrange(self.people)
            )
            external_id = f"m{i}"
            open_threads = threads.setdefault(channel, [])
            parent = ""
            if starts or not open_threads:
                open_threads.append(external_id)
                del open_threads[:-50]
            else:
                parent = rng.choice(open_threads)
            yield MessageRecord(
                external_id=external_id,
                kind=record.kind,
                created_at=start + step * i,
                channel=ChannelRef(external_id=channel, name=channel),
                author=IdentityRef(
                    realm="bench",
                    external_id=f"u{author}",
                    handle=f"user{author}",
                    display_name=f"User {author}",
                    email=f"user{author}@example{author % 400}.com" if author % 3 else "",
                ),
                title=record.title if starts else "",
                body=record.body,
                url=f"https://community.example.com/{channel.strip('#')}/{external_id}",
                thread_external_id=parent or external_id,
                parent_external_id=parent,
            )
            self.progress = (i + 1, self.count)
            if (i + 1) % 20_000 == 0:
                yield Checkpoint({"position": i + 1})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--people", type=int, default=50_000)
    ap.add_argument("--days", type=int, default=28, help="re-grouping window (default: the product's 28 days)")
    ap.add_argument("--database-url", default="", help="PostgreSQL URL (default: a fresh SQLite file)")
    args = ap.parse_args()

    from benchmarks.harness import fresh_django

    with fresh_django(args.database_url or None):
        return run(args)


def run(args: argparse.Namespace) -> int:
    import logging

    from django.db import connection

    from benchmarks.harness import cpu_model

    logging.getLogger("townsquare").setLevel(logging.WARNING)
    # ... but for the sweep's summary (how long the writer waited for the model)
    sweep_log = logging.getLogger("townsquare.feedback.services.processing")
    sweep_log.setLevel(logging.INFO)
    sweep_log.addFilter(
        lambda record: record.levelno >= logging.WARNING or record.getMessage().startswith("feedback sweep:")
    )
    from benchmarks import real_corpus
    from townsquare.feedback import services
    from townsquare.feedback.models import Classification, Embedding, Theme
    from townsquare.feedback.pipeline.embed import active_runtime, embed
    from townsquare.sources import connectors
    from townsquare.sources import services as sources
    from townsquare.sources.models import Message, Source

    if not real_corpus.available():
        print("../shared/data is needed for the real message pool")
        return 2
    t = time.perf_counter()
    pool = [(kind, record, real_corpus.starts_thread(record)) for kind, record in real_corpus.records()]
    print(f"pool: {len(pool):,} real messages read from ../shared/data in {time.perf_counter() - t:.0f}s")
    embed(["warm up"])  # build or load the model outside the timings
    print(f"database: {connection.vendor}; embedding runtime: {active_runtime()}; {cpu_model()}")

    PoolConnector.pool, PoolConnector.count, PoolConnector.people = pool, args.messages, args.people
    sys.modules.setdefault("benchmarks.feedback_end_to_end", sys.modules[__name__])  # one class, however it was started
    connectors.CONNECTORS["bench_pool"] = "benchmarks.feedback_end_to_end.PoolConnector"
    source = Source.objects.create(kind="bench_pool", name="bench pool")
    stages: list[tuple[str, float]] = []
    cpu = [cpu_seconds()]

    def stage(name: str, seconds: float, detail: str) -> None:
        stages.append((name, seconds))
        used = cpu_seconds()
        print(
            f"{name:8} {seconds:8.1f}s  {detail}  (CPU {used - cpu[0]:,.0f}s; peak RSS {peak_rss_mib():,.0f} MiB)",
            flush=True,
        )
        cpu[0] = used

    t = time.perf_counter()
    run = sources.source_sync(source=source)
    stage(
        "ingest",
        time.perf_counter() - t,
        f"{run.status}: {run.new:,} messages = {run.new / (time.perf_counter() - t):,.0f}/s",
    )

    t = time.perf_counter()

    def report(done: int, result: Any) -> None:
        if done % 100_000 < 2000:
            now = time.perf_counter()
            print(
                f"  processed {done:,} ({done / (now - t):,.0f}/s overall; peak RSS {peak_rss_mib():,.0f} MiB)",
                flush=True,
            )

    handled = services.messages_process_pending(batch=2000, on_batch=report)
    seconds = time.perf_counter() - t
    embedded = Embedding.objects.count()
    feedback = Classification.objects.exclude(kind="not_feedback").count()
    stage(
        "process",
        seconds,
        f"{handled:,} messages = {handled / seconds:,.0f}/s; {embedded:,} passed the pre-filter and "
        f"were embedded ({100 * embedded / max(handled, 1):.0f}%) = {embedded / seconds:,.0f} embeddings/s; "
        f"{feedback:,} classified as feedback; {Theme.objects.count():,} themes",
    )

    t = time.perf_counter()
    result = services.themes_recluster(days=args.days)
    window = Message.objects.filter(created_at__gte=dt.datetime.now(dt.UTC) - dt.timedelta(days=args.days)).count()
    stage(
        "regroup",
        time.perf_counter() - t,
        f"{args.days}-day window of {window:,} messages: {result.proposals} proposals",
    )

    t = time.perf_counter()
    refreshed = services.themes_refresh_all()
    stage("refresh", time.perf_counter() - t, f"{refreshed:,} themes rescored")

    total = sum(seconds for _, seconds in stages)
    print(
        f"total    {total:8.1f}s = {total / 60:.1f} min for {args.messages:,} messages "
        f"(target < 45 min); peak RSS {peak_rss_mib():,.0f} MiB (target < 4,096)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
