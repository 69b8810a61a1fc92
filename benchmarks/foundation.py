"""Foundation figures: demo set-up time, and the time to serve the dashboard through gunicorn.

    .venv/bin/python benchmarks/foundation.py [--requests 200]

Runs everything in a fresh temporary data directory (SQLite), as a new user would.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOWNSQUARE = [sys.executable, "-m", "townsquare.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - start


def login(base: str) -> urllib.request.OpenerDirector:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    html = opener.open(f"{base}/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    form = {"csrfmiddlewaretoken": token, "username": "dana", "password": "townsquare-demo", "next": "/home/"}
    opener.open(f"{base}/login/", urllib.parse.urlencode(form).encode()).read()
    return opener


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TOWNSQUARE_")}
        env["TOWNSQUARE_DATA_DIR"] = tmp
        first = timed([*TOWNSQUARE, "demo"], env)
        again = timed([*TOWNSQUARE, "demo"], env)
        port = free_port()
        server = subprocess.Popen(
            [*TOWNSQUARE, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"{base}/healthz").read()
                    break
                except OSError:
                    time.sleep(0.1)
            opener = login(base)
            for _ in range(10):  # warm-up
                opener.open(f"{base}/home/").read()
            samples = []
            for _ in range(args.requests):
                start = time.perf_counter()
                opener.open(f"{base}/home/").read()
                samples.append((time.perf_counter() - start) * 1000)
        finally:
            server.terminate()
            server.wait(timeout=30)
    samples.sort()
    print(f"demo set-up, fresh data dir (migrate, static, demo data): {first:.2f} s")
    print(f"demo set-up, second run (nothing to do):                   {again:.2f} s")
    print(
        f"dashboard via gunicorn, {args.requests} sequential requests: median {statistics.median(samples):.1f} ms, "
        f"p95 {samples[int(len(samples) * 0.95) - 1]:.1f} ms, max {samples[-1]:.1f} ms"
    )


if __name__ == "__main__":
    main()
