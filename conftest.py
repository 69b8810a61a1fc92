"""Shared test fixtures: users per role, a local SMTP server, a local HTTP endpoint, a real browser.

Everything here is real: the SMTP server (aiosmtpd) and HTTP endpoint listen on
127.0.0.1, and the browser is Debian's Chromium driven by Playwright.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest

from townsquare.testing import FAST_HASHER, unreachable
from townsquare.testing.browser import CHROMIUM, CHROMIUM_ARGS, BrowserSession
from townsquare.testing.servers import HTTPEndpoint, SMTPServer, free_port

# Playwright's sync API runs an event loop in the test thread; the ORM calls the
# tests make beside it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent
# The int8 embedding model is built once from the packaged weights and shared by every test process
# and both database runs (a file lock makes concurrent builders wait for the first).
os.environ.setdefault("TOWNSQUARE_MODEL_CACHE", str(ROOT / ".cache" / "models"))


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


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Test users get real passwords and log in for real; MD5 keeps hashing them from dominating the suite.

    The default hashers stay listed after it, so passwords hashed outside a test's settings (the shared demo
    workspace) still verify.
    """
    settings.PASSWORD_HASHERS = [FAST_HASHER, *settings.PASSWORD_HASHERS]
