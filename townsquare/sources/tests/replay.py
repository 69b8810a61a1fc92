"""A local HTTP server on 127.0.0.1 that replays recorded API responses, in order, per path.

A reply is found by the request's path plus query parameters: ``add("/posts?page=1", ...)``
answers any request to ``/posts`` whose query has ``page=1`` (other parameters may be there
too); the most specific key wins; ``add("/posts", ...)`` answers the rest. ``fallback(prefix,
reply)`` answers every other path under a prefix (e.g. months with no mail). GET and POST are
served alike.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    body: bytes | str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    at: float


class ReplayServer:
    """``add(path, Reply...)`` queues replies for a path; the last one repeats. Unknown paths get 404."""

    def __init__(self) -> None:
        self.replies: dict[str, list[Reply]] = defaultdict(list)
        self.fallbacks: dict[str, Reply] = {}
        self.log: list[Request] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                with server.lock:
                    query = parse_qs(parts.query, keep_blank_values=True)
                    server.log.append(Request(self.command, parts.path, query, dict(self.headers), time.monotonic()))
                    reply = server._reply(parts.path, query)
                body = reply.body.encode() if isinstance(reply.body, str) else reply.body
                self.send_response(reply.status)
                headers = {"Content-Type": "application/json", **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value.replace("{base}", server.base))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def _reply(self, path: str, query: dict[str, list[str]]) -> Reply:
        best, best_size = None, -1
        for key, queue in self.replies.items():
            if not queue:
                continue
            key_path, _, key_query = key.partition("?")
            if key_path != path:
                continue
            wanted = parse_qs(key_query, keep_blank_values=True)
            if all(query.get(name) == values for name, values in wanted.items()) and len(wanted) > best_size:
                best, best_size = key, len(wanted)
        if best is not None:
            queue = self.replies[best]
            return queue.pop(0) if len(queue) > 1 else queue[0]
        for prefix, reply in self.fallbacks.items():
            if path.startswith(prefix):
                return reply
        return Reply("{}", 404)

    def add(self, path: str, *replies: Reply) -> None:
        with self.lock:
            self.replies[path].extend(replies)

    def replace(self, path: str, *replies: Reply) -> None:
        with self.lock:
            self.replies[path] = list(replies)

    def fallback(self, prefix: str, reply: Reply) -> None:
        with self.lock:
            self.fallbacks[prefix] = reply

    @property
    def requests(self) -> list[tuple[str, dict[str, list[str]], dict[str, str]]]:
        return [(r.path, r.query, r.headers) for r in self.log]

    def paths(self) -> list[str]:
        return [r.path for r in self.log]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
