from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from townsquare.core.roles import Role

PAGES = {
    "/post/": (
        200,
        "text/html; charset=utf-8",
        b"<html><head><title>  Kafka &amp; you:\n a guide </title></head></html>",
    ),
    "/plain": (200, "application/json", b'{"title": "not html"}'),
    "/missing": (404, "text/html", b"<title>Not found</title>"),
}


class PageServer:
    """Web pages on 127.0.0.1 for the title fetch: titled pages, a redirect, a 404, and one that hangs up."""

    def __init__(self) -> None:
        self.hits: list[str] = []

        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits.append(self.path)
                if self.path == "/hang-up":
                    self.close_connection = True
                    self.connection.close()  # accepts the connection, never answers
                    return
                if self.path == "/moved":
                    self.send_response(302)
                    self.send_header("Location", "/post/")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status, content_type, body = PAGES.get(self.path, PAGES["/missing"])
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.http.server_address[1]
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def pages() -> Iterator[PageServer]:
    server = PageServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.http.shutdown()
        server.http.server_close()


@pytest.fixture
def marketer(make_user: Any) -> Any:
    return make_user(Role.STAKEHOLDER_MEMBER, username="mia", team="Marketing", full_name="Mia Chen")


@pytest.fixture
def devrel(make_user: Any) -> Any:
    return make_user(Role.DEVREL_MEMBER, username="ari", team="DevRel", full_name="Ari Lindqvist")


@pytest.fixture
def seller(make_user: Any) -> Any:
    return make_user(Role.STAKEHOLDER_MEMBER, username="sol", team="Sales", full_name="Sol Rivera")


@pytest.fixture
def executive(make_user: Any) -> Any:
    return make_user(Role.EXECUTIVE, username="eve", team="Executive", full_name="Eve Adams")
