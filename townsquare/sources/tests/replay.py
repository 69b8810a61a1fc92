"""A local HTTP server on 127.0.0.1 that replays recorded API responses, in order, per path."""

from __future__ import annotations

import threading
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


class ReplayServer:
    """``add(path, Reply...)`` queues replies for a path; the last one repeats. Unknown paths get 404."""

    def __init__(self) -> None:
        self.replies: dict[str, list[Reply]] = defaultdict(list)
        self.requests: list[tuple[str, dict[str, list[str]], dict[str, str]]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                with server.lock:
                    server.requests.append((parts.path, parse_qs(parts.query), dict(self.headers)))
                    queue = server.replies.get(parts.path) or server.replies.get(f"{parts.path}?{parts.query}")
                    reply = (queue.pop(0) if len(queue) > 1 else queue[0]) if queue else Reply("{}", 404)
                body = reply.body.encode() if isinstance(reply.body, str) else reply.body
                self.send_response(reply.status)
                headers = {"Content-Type": "application/json", **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value.replace("{base}", server.base))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def add(self, path: str, *replies: Reply) -> None:
        with self.lock:
            self.replies[path].extend(replies)

    def replace(self, path: str, *replies: Reply) -> None:
        with self.lock:
            self.replies[path] = list(replies)

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.requests]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
