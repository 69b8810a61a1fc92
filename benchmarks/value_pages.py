#!/usr/bin/env python
"""The Value pages served as the product serves them, under concurrent clients.

Builds the community corpus of ``benchmarks/metrics_health.py`` (its builder, not a copy), times the whole
health + channel-map recompute and the community-activity recompute, tracks a realistic set of packages
(PyPI and npm daily counts, Docker Hub and GitHub all-time totals read at each month's end) over two years
through the product's own download services, then runs ``townsquare init`` and starts the real server
(``python -m townsquare.cli serve --workers 2``: gunicorn, gthread) on that database as a subprocess. With a
logged-in session of a DevRel lead it warms each page once (after drawing the pages' charts, as the
recompute task does at its end), then for each page drives ``--clients`` client processes (separate
processes, so no client shares a GIL with the server or with another client) for
``--requests`` requests in all over keep-alive connections, and prints the median, p95 and max per page
and the server's CPU per request (gunicorn's processes, from /proc): on a shared machine latency follows the
load, the CPU a request costs does not.

    .venv/bin/python benchmarks/value_pages.py --messages 100000 --members 5000
    .venv/bin/python benchmarks/value_pages.py                                   # 1,000,000 / 50,000
    .venv/bin/python benchmarks/value_pages.py --database-url postgres://postgres@127.0.0.1:5432/h8

With --database-url the named PostgreSQL database is DROPPED and re-created (unless --reuse finds a corpus
in it). Targets (issue 17): recompute <= 30 s at 1M messages; Health, Channels and Downloads <= 150 ms
median and <= 300 ms p95 under 8 concurrent clients; a consolidation scenario <= 1 s. It prints figures and
asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import math
import multiprocessing
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.harness import cpu_model
from benchmarks.metrics_health import populate

# What a DevRel team typically tracks: its SDKs on PyPI and npm, an image on Docker Hub, a CLI's releases.
PACKAGES = [
    ("pypi", "acme-sdk", 40_000),
    ("pypi", "acme-cli", 9_000),
    ("pypi", "acme-airflow", 2_500),
    ("pypi", "acme-django", 1_200),
    ("npm", "acme-sdk", 60_000),
    ("npm", "@acme/react", 18_000),
    ("npm", "@acme/cli", 4_000),
    ("npm", "acme-vite-plugin", 1_500),
    ("docker", "acme/server", 25_000),
    ("docker", "acme/agent", 6_000),
    ("github", "acme/cli", 3_000),
    ("github", "acme/desktop", 800),
]
# How much a daily fetch hands over at once: pypistats keeps 180 days; npm is backfilled in 18-month chunks.
CHUNK_DAYS = {"pypi": 180, "npm": 540}


def downloads_populate(*, today: dt.date, seed: int) -> int:
    """Two years of figures per package, stored through the services a fetch uses; returns the month rows."""
    from townsquare.metrics.downloads.base import CumulativeTotal, DailyCounts
    from townsquare.metrics.models import PackageMonth
    from townsquare.metrics.services import downloads as services

    rng = random.Random(seed)
    first = today - dt.timedelta(days=730)
    for registry, name, daily in PACKAGES:
        package = services.package_add(registry=registry, name=name)

        def count(day: dt.date, daily: int = daily) -> int:
            growth = 0.5 + (day - first).days / 730  # doubles over the two years
            weekday = 0.6 if day.weekday() >= 5 else 1.0
            return max(0, int(daily * growth * weekday * rng.uniform(0.85, 1.15)))

        days = [first + dt.timedelta(days=n) for n in range(730)]  # up to yesterday
        if registry in CHUNK_DAYS:
            step = CHUNK_DAYS[registry]
            for lo in range(0, len(days), step):
                chunk = days[lo : lo + step]
                services.package_store(
                    package=package,
                    result=DailyCounts(days={d: count(d) for d in chunk}, start=chunk[0], end=chunk[-1]),
                    today=chunk[-1] + dt.timedelta(days=1),
                )
        else:  # an all-time total, read on the last day of each month (and today)
            total = daily * 200
            readings = []
            for day in days:
                total += count(day)
                if (day + dt.timedelta(days=1)).day == 1:
                    readings.append((day, total))
            readings.append((today, total + count(today)))
            for day, value in readings:
                services.package_store(package=package, result=CumulativeTotal(total=value), today=day)
    return PackageMonth.objects.count()


def session_cookie() -> str:
    """A logged-in DevRel lead (a value reader who also sees the lead's controls): its session cookie."""
    from django.conf import settings
    from django.test import Client

    from townsquare.people.services import roles_ensure, user_ensure

    roles_ensure()
    user = user_ensure(username="bench", email="bench@bench.invalid", full_name="Bench", role="devrel_lead")
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env() -> dict[str, str]:
    """The benchmark's database and data directory (secret key, static files, chart cache), nothing else."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWNSQUARE_")}
    env.update(
        {
            "TOWNSQUARE_DATA_DIR": os.environ["TOWNSQUARE_DATA_DIR"],
            "TOWNSQUARE_DATABASE_URL": os.environ["TOWNSQUARE_DATABASE_URL"],
            "TOWNSQUARE_SCHEDULER": "false",
            "TOWNSQUARE_LOG_LEVEL": "warning",
            "DJANGO_SETTINGS_MODULE": "townsquare.settings",
        }
    )
    return env


def server_start(port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    env = server_env()
    subprocess.run([sys.executable, "-m", "townsquare.cli", "init"], env=env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "townsquare.cli", "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited ({server.returncode}); see {log}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/accounts/login/")
            conn.getresponse().read()
            conn.close()
            return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit(f"the server did not answer within 60 s; see {log}")


def server_stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)  # gunicorn's master stops its workers
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def server_cpu_seconds(server: subprocess.Popen[bytes]) -> float:
    """User + system CPU of gunicorn's master and its workers so far (Linux /proc; 0.0 elsewhere)."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    pids = [server.pid]
    try:
        pids += [int(p) for p in Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()]
    except OSError:
        return 0.0
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return total / ticks


def fetch(conn: http.client.HTTPConnection, path: str, cookie: str) -> tuple[int, int]:
    conn.request("GET", path, headers={"Cookie": cookie, "Accept": "text/html"})
    response = conn.getresponse()
    body = response.read()
    if response.getheader("Connection", "").lower() == "close":
        conn.close()
    return response.status, len(body)


def client_run(job: tuple[int, str, str, int, float]) -> tuple[list[float], list[int]]:
    """One client process: ``count`` GETs one after another on a keep-alive connection, from ``start_at``."""
    port, path, cookie, count, start_at = job
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    time.sleep(max(0.0, start_at - time.time()))  # every client starts together
    samples, statuses = [], []
    for _ in range(count):
        t = time.perf_counter()
        try:
            status, _ = fetch(conn, path, cookie)
        except (OSError, http.client.HTTPException):
            conn.close()
            status = 0
        samples.append((time.perf_counter() - t) * 1000)
        statuses.append(status)
    conn.close()
    return samples, statuses


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def drive(
    pool: Any, server: subprocess.Popen[bytes], path: str, cookie: str, *, port: int, clients: int, requests: int
) -> dict[str, Any]:
    per_client = [requests // clients + (i < requests % clients) for i in range(clients)]
    start_at = time.time() + 0.5
    cpu = server_cpu_seconds(server)
    began = time.perf_counter()
    results = pool.map(client_run, [(port, path, cookie, n, start_at) for n in per_client if n])
    wall = time.perf_counter() - began - 0.5
    cpu = server_cpu_seconds(server) - cpu
    samples = [s for result in results for s in result[0]]
    errors = sum(1 for result in results for status in result[1] if status != 200)
    return {
        "median": statistics.median(samples),
        "p95": p95(samples),
        "max": max(samples),
        "errors": errors,
        "rps": len(samples) / wall if wall > 0 else 0.0,
        # What a request costs the server whatever else the machine is doing (latency here depends on it).
        "cpu_ms": cpu * 1000 / len(samples),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=0, help="default: one per 20 messages (50,000 at 1M)")
    parser.add_argument("--database-url", default="", help="postgres://... (that database is dropped and re-created)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client processes per page")
    parser.add_argument("--requests", type=int, default=200, help="requests per page, over all clients")
    parser.add_argument("--workers", type=int, default=2, help="`townsquare serve --workers`")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reuse", metavar="DIR", default="", help="Keep the corpus in DIR and reuse it next time.")
    args = parser.parse_args()
    members = args.members or max(100, args.messages // 20)
    from benchmarks.people_pages import setup

    with tempfile.TemporaryDirectory(prefix="value-bench-") as tmp:
        data_dir = Path(args.reuse or tmp)
        data_dir.mkdir(parents=True, exist_ok=True)
        label = setup(args.database_url or None, data_dir, keep=bool(args.reuse))
        from django.db import connection
        from django.utils import timezone

        from townsquare.metrics.models import ChannelMap, TrackedPackage
        from townsquare.metrics.panels import pages_warm
        from townsquare.metrics.services.downloads import community_activity_recompute
        from townsquare.metrics.services.health import health_recompute
        from townsquare.sources.models import Message, Source

        reuse = bool(args.reuse) and Message.objects.exists()
        print(f"Database: {label}{' (reused)' if reuse else ''}")
        print(f"CPU: {cpu_model()}; load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if not reuse:
            populate(members=members, messages=args.messages, seed=args.seed)
        print(f"Corpus: {Message.objects.count():,} messages, {members:,} members", flush=True)

        load = os.getloadavg()[0]
        start = time.perf_counter()
        snapshot = health_recompute()
        recompute = time.perf_counter() - start
        assert snapshot is not None
        start = time.perf_counter()
        community_activity_recompute()
        activity = time.perf_counter() - start
        print(f"Recompute, health + channel map (all scopes): {recompute:.2f} s; community activity: "
              f"{activity:.2f} s; load average before: {load:.2f}", flush=True)  # fmt: skip
        start = time.perf_counter()
        scopes = pages_warm(snapshot=snapshot)  # the recompute task's last step
        print(f"Drawing the pages after the recompute (task's last step): {scopes} Health scopes and the channel "
              f"maps in {time.perf_counter() - start:.2f} s", flush=True)  # fmt: skip

        today = timezone.now().astimezone(dt.UTC).date()
        if not TrackedPackage.objects.exists():
            start = time.perf_counter()
            months = downloads_populate(today=today, seed=args.seed)
            print(f"Downloads: {len(PACKAGES)} packages, {months} stored months "
                  f"({time.perf_counter() - start:.1f} s)", flush=True)  # fmt: skip

        sources = list(Source.objects.order_by("name").values_list("pk", flat=True))
        data = ChannelMap.objects.get(snapshot=snapshot, window="12m").data
        busiest = [row["source"] for row in sorted(data["channels"], key=lambda r: -r["messages"])]
        retire, destination = busiest[-2:], busiest[0]
        cookie = session_cookie()
        connection.close()  # the server has the database to itself from here

        cases = [
            ("Health", "/value/health/"),
            ("Health, one channel", "/value/health/?" + urlencode({"source": sources[2]})),
            ("Channels", "/value/channels/"),
            ("Downloads", "/value/downloads/"),
            ("Consolidation scenario",
             "/value/channels/?" + urlencode({"window": "12m", "retire": retire, "to": destination}, doseq=True)),
        ]  # fmt: skip
        port = free_port()
        log = data_dir / "serve.log"
        server = server_start(port, args.workers, log)
        try:
            print(f"Server: townsquare serve --bind 127.0.0.1:{port} --workers {args.workers} (pid {server.pid})")
            warm = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            for name, path in cases:
                t = time.perf_counter()
                status, size = fetch(warm, path, cookie)
                print(f"  warm-up {name}: {status}, {size:,} bytes, {(time.perf_counter() - t) * 1000:.0f} ms")
                if status != 200:
                    raise SystemExit(f"{path} answered {status}; see {log}")
            warm.close()
            print(f"{args.clients} client processes, {args.requests} requests per page; ms")
            print(f"{'page':24} {'median':>8} {'p95':>8} {'max':>8} {'req/s':>7} {'cpu/req':>7} {'errors':>6} "
                  f"{'load':>5}")  # fmt: skip
            context = multiprocessing.get_context("spawn")
            with context.Pool(args.clients) as pool:
                for name, path in cases:
                    figures = drive(pool, server, path, cookie, port=port, clients=args.clients, requests=args.requests)
                    median_target, p95_target = (1000, 1000) if name.startswith("Consolidation") else (150, 300)
                    over = figures["median"] > median_target or figures["p95"] > p95_target
                    flag = "  <-- over target" if over else ""
                    print(f"{name:24} {figures['median']:8.1f} {figures['p95']:8.1f} {figures['max']:8.1f} "
                          f"{figures['rps']:7.1f} {figures['cpu_ms']:7.1f} {figures['errors']:6d} {os.getloadavg()[0]:5.2f}{flag}",
                          flush=True)  # fmt: skip
        finally:
            server_stop(server)
        print(f"Load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
