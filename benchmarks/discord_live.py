"""Live Discord connector throughput: a local server answers the bot API with generated pages; the real sync reads them.

    .venv/bin/python benchmarks/discord_live.py                     # 200,000 messages, 4 channels, SQLite
    .venv/bin/python benchmarks/discord_live.py --messages 50000 --database-url postgres://postgres@127.0.0.1:5432/bench

The server (its own process, stdlib only) makes each page of 100 messages from the
``after`` id it is asked for, so it holds nothing in memory; ~5,000 authors write realistic
lengths with mentions and replies. Printed: messages/s through ``source_sync`` (the API client,
the record mapping, the batched upsert), and peak RSS sampled every 10 % of the run, which
should stay flat. Target: >= 2,000 messages/s, memory flat over 200,000 messages.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import resource
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import cpu_model, fresh_django

GUILD = "900000000000000001"
EPOCH_MS = 1_420_070_400_000
START_MS = 1_735_689_600_000  # 2025-01-01
WORDS = [
    "the",
    "build",
    "fails",
    "on",
    "arm64",
    "when",
    "we",
    "pin",
    "version",
    "and",
    "the",
    "docs",
    "say",
    "to",
    "set",
    "refresh",
    "but",
    "it",
    "still",
    "times",
    "out",
]


def serve(channels: int, per_channel: int) -> ThreadingHTTPServer:
    channel_ids = [str(910000000000000000 + n) for n in range(channels)]

    # Cheap to make (the server must not be what is measured): texts from a fixed pool, authors by arithmetic.
    pool = random.Random(7)
    texts = [" ".join(pool.choice(WORDS) for _ in range(pool.randint(4, 40))) for _ in range(97)]

    def message(channel: str, index: int) -> dict[str, object]:
        ms = START_MS + index * 60_000 + int(channel) % 1000
        author = (index * 7919 + int(channel)) % 5000
        content = texts[index % 97]
        if index % 10 == 0:
            content = f"<@{100000000000000000 + (index * 31) % 5000}> {content}"
        mid = ((ms - EPOCH_MS) << 22) + int(channel) % 4096
        return {
            "id": str(mid),
            "type": 0,
            "channel_id": channel,
            "author": {"id": str(100000000000000000 + author), "username": f"user{author}", "global_name": None},
            "content": content,
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(ms / 1000)),
            "edited_timestamp": None,
            "attachments": [],
            "mentions": [],
        }

    def index_after(channel: str, after: int) -> int:
        if after == 0:
            return 0
        ms = (after >> 22) + EPOCH_MS
        return (ms - START_MS - int(channel) % 1000) // 60_000 + 1

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes: without this, Nagle and delayed ACKs add 40 ms a page.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            path = parts.path
            if path == f"/guilds/{GUILD}/channels":
                body: object = [{"id": c, "type": 0, "name": f"chan{n}"} for n, c in enumerate(channel_ids)]
            elif path == f"/guilds/{GUILD}/threads/active" or path.endswith("/threads/archived/public"):
                body = {"threads": [], "has_more": False}
            elif path.startswith(f"/guilds/{GUILD}/members/"):
                body = {"nick": None}
            elif path.startswith("/channels/") and path.endswith("/messages"):
                channel = path.split("/")[2]
                start = index_after(channel, int(query.get("after", ["0"])[0]))
                limit = int(query.get("limit", ["100"])[0])
                body = [message(channel, i) for i in range(start, min(start + limit, per_channel))][::-1]
            else:
                body = {"message": "Unknown"}
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _serve_in_child(channels: int, per_channel: int, ports: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    server = serve(channels, per_channel)
    ports.put(server.server_address[1])
    threading.Event().wait()  # until the parent ends this process


def serve_elsewhere(channels: int, per_channel: int) -> tuple[multiprocessing.Process, int]:
    """The API in its own process, as a real one would be: it must not share the sync's interpreter lock."""
    ports: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    child = multiprocessing.Process(target=_serve_in_child, args=(channels, per_channel, ports), daemon=True)
    child.start()
    return child, ports.get(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--channels", type=int, default=4)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--no-nicknames", action="store_true", help="skip the one call per new author")
    args = parser.parse_args()
    per_channel = args.messages // args.channels
    with fresh_django(args.database_url):
        from townsquare.sources import services
        from townsquare.sources.models import Message, Source

        child, port = serve_elsewhere(args.channels, per_channel)
        base = f"http://127.0.0.1:{port}"
        source = Source.objects.create(
            name="bench discord",
            kind="discord",
            config={"guild_id": GUILD, "api_url": base, "lookback_hours": 0, "nicknames": not args.no_nicknames},
            secrets='{"token": "bench"}',
        )
        rss: list[int] = []
        total = per_channel * args.channels

        def progress(run: object) -> None:
            done = getattr(run, "new", 0)
            if not rss or done >= len(rss) * total / 10:
                rss.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)

        started = time.perf_counter()
        run = services.source_sync(source=source, progress=progress)
        elapsed = time.perf_counter() - started
        stored = Message.objects.filter(source=source).count()
        print(f"CPU: {cpu_model()}")
        print(
            f"database: {'PostgreSQL' if args.database_url else 'SQLite'}; nicknames "
            f"{'off' if args.no_nicknames else 'on (one call per new author)'}; status {run.status} {run.error[:200]}"
        )
        print(f"{stored:,} messages in {elapsed:.1f} s: {stored / elapsed:,.0f} messages/s (target >= 2,000)")
        print("peak RSS MiB at each tenth of the run: " + ", ".join(str(v) for v in rss))
        child.terminate()


if __name__ == "__main__":
    main()
