"""Shared test fixtures: users per role, a local SMTP server, a local HTTP endpoint, a real browser.

Everything here is real: the SMTP server (aiosmtpd) and HTTP endpoint listen on
127.0.0.1, and the browser is Debian's Chromium driven by Playwright.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls the
# tests make beside it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent
# The int8 embedding model is built once from the packaged weights and shared by every test process
# and both database runs (a file lock makes concurrent builders wait for the first).
os.environ.setdefault("TOWNSQUARE_MODEL_CACHE", str(ROOT / ".cache" / "models"))
SHARED = ROOT.parent / "shared"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_sessionstart(session: pytest.Session) -> None:
    url = os.environ.get("TOWNSQUARE_DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg

        try:
            psycopg.connect(url.replace("postgres://", "postgresql://", 1), connect_timeout=3).close()
        except psycopg.OperationalError as exc:
            pytest.exit(f"PostgreSQL at {url} is unreachable: {exc}", returncode=3)


# Tests that must share one xdist worker, by path. ``pytest.mark.xdist_group`` no longer groups anything:
# pytest-xdist 3.8 marks the group by rewriting ``item._nodeid``, which pytest 9 ignores, so
# ``--dist loadgroup`` spread the demo tests over both workers and each loaded the demo (minutes).
XDIST_GROUPS = {"tests/demo_workspace/": "demo_workspace"}


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class DirectoryGroupScheduling(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            for prefix, group in XDIST_GROUPS.items():
                if nodeid.startswith(prefix):
                    return group
            return super()._split_scope(nodeid)

    return DirectoryGroupScheduling(config, log)


def unreachable(reason: str) -> None:
    """Skip locally, fail in CI: a missing service must never pass CI silently."""
    if _in_ci():
        pytest.fail(f"{reason} (CI=true: this is a failure, not a skip)")
    pytest.skip(reason)


# ---------------------------------------------------------------- users and roles


@pytest.fixture
def make_user(db: None) -> Callable[..., Any]:
    from townsquare.people.services import team_ensure, user_ensure

    counter = iter(range(1, 10_000))

    def make(
        role: str,
        *,
        username: str | None = None,
        team: str | None = None,
        is_lead: bool = False,
        full_name: str | None = None,
    ) -> Any:
        n = next(counter)
        username = username or f"{role}-{n}"
        team_obj = team_ensure(name=team, kind=_kind_for(team)) if team else None
        return user_ensure(
            username=username,
            email=f"{username}@example.com",
            full_name=full_name or f"{role.title()} Person{n}",
            role=role,
            team=team_obj,
            is_lead=is_lead,
            password="pw-for-tests-123",
        )

    return make


def _kind_for(team: str) -> str:
    from townsquare.people.models import Team

    slug = team.lower().replace(" ", "_")
    return slug if slug in Team.Kind.values else Team.Kind.OTHER


@pytest.fixture
def client_for(client: Any, make_user: Callable[..., Any]) -> Callable[..., Any]:
    """``client_for("devrel_lead")`` returns a test client logged in as a new user with that role."""

    def login(role: str, **kwargs: Any) -> Any:
        user = make_user(role, **kwargs)
        client.force_login(user)
        client.user = user
        return client

    return login


# ---------------------------------------------------------------- local SMTP server


@dataclass
class SMTPServer:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)
    envelopes: list[Any] = field(default_factory=list)

    @property
    def apprise_url(self) -> str:
        return f"mailto://{self.host}:{self.port}?from=townsquare@example.com&mode=insecure"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Message]:
        import time

        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    from aiosmtpd.controller import Controller

    server = SMTPServer(host="127.0.0.1", port=free_port())

    class Handler:
        async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:
            server.envelopes.append(envelope)
            server.messages.append(
                message_from_bytes(envelope.original_content or envelope.content, policy=default_policy)
            )
            return "250 Message accepted for delivery"

    controller = Controller(Handler(), hostname=server.host, port=server.port)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


# ---------------------------------------------------------------- local HTTP endpoint


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())


class HTTPEndpoint:
    """A webhook receiver on 127.0.0.1 that records every request; it can be told to fail."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.failures_left = 0
        self.fail_status = 500
        self.delay = 0.0
        self.lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with endpoint.lock:
                    failing = endpoint.failures_left > 0
                    if failing:
                        endpoint.failures_left -= 1
                    else:
                        endpoint.received.append(Received(self.command, self.path, dict(self.headers), body))
                if endpoint.delay:
                    import time

                    time.sleep(endpoint.delay)
                status = endpoint.fail_status if failing else 200
                payload = b'{"ok": false}' if failing else b'{"ok": true}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_POST = do_PUT = do_GET = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, scheme: str = "json", path: str = "/hook") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def fail_next(self, count: int, status: int = 500) -> None:
        with self.lock:
            self.failures_left = count
            self.fail_status = status

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        import time

        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.received


@pytest.fixture
def http_endpoint() -> Iterator[HTTPEndpoint]:
    endpoint = HTTPEndpoint()
    endpoint.thread.start()
    try:
        yield endpoint
    finally:
        endpoint.server.shutdown()
        endpoint.server.server_close()


# ---------------------------------------------------------------- real browser


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        unreachable(f"{CHROMIUM} is missing: ./dev test installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class BrowserSession:
    page: Any
    base_url: str
    console_errors: list[str]

    def login(self, username: str, password: str = "pw-for-tests-123") -> None:
        self.page.goto(f"{self.base_url}/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(lambda url: "/login/" not in url)

    def goto(self, path: str) -> Any:
        return self.page.goto(f"{self.base_url}{path}")

    def screenshot(self, name: str, *, full_page: bool = True) -> Path:
        """Save under docs/screenshots/ when TOWNSQUARE_SCREENSHOTS=1, else in the test's temp dir."""
        target = ROOT / "docs" / "screenshots" if os.environ.get("TOWNSQUARE_SCREENSHOTS") == "1" else SCREENSHOT_TMP
        target.mkdir(parents=True, exist_ok=True)
        path = target / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


SCREENSHOT_TMP = Path(os.environ.get("TMPDIR", "/tmp")) / "townsquare-screenshots"


@pytest.fixture
def web(browser: Any, live_server: Any) -> Iterator[BrowserSession]:
    """A fresh browser context against the live server; records console errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield BrowserSession(page=page, base_url=live_server.url, console_errors=errors)
    finally:
        context.close()


@pytest.fixture(autouse=True)
def _plain_static_storage(settings: Any) -> None:
    """Tests serve static files from the apps (no collectstatic manifest needed)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


FAST_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Test users get real passwords and log in for real; MD5 keeps hashing them from dominating the suite.

    The default hashers stay listed after it, so passwords hashed outside a test's settings (the shared demo
    workspace) still verify.
    """
    settings.PASSWORD_HASHERS = [FAST_HASHER, *settings.PASSWORD_HASHERS]


# ---------------------------------------------------------------- worker subprocesses


def database_url_for_subprocess() -> str:
    """A TOWNSQUARE_DATABASE_URL pointing a child process at the current test database."""
    from django.db import connection

    info = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{info['NAME']}"
    user = info.get("USER") or "postgres"
    password = f":{info['PASSWORD']}" if info.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{info.get('HOST') or '127.0.0.1'}:{info.get('PORT') or 5432}/{info['NAME']}"


def subprocess_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["TOWNSQUARE_DATABASE_URL"] = database_url_for_subprocess()
    env.pop("TOWNSQUARE_TEST_SQLITE_PATH", None)
    env.update(extra)
    return env


def townsquare_command(*args: str) -> list[str]:
    import sys

    return [sys.executable, "-m", "townsquare.cli", *args]
