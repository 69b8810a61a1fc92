"""One demo workspace per test process, shared by every test in this package.

Loading the demo takes minutes (about 5,000 messages through MiniLM), so the package loads it once, inside
a transaction that is rolled back after the package's last test. Each test runs in a savepoint inside it
(``django_db``), so no test sees another's changes, and nothing is flushed: data the migrations seeded stays
for the tests that run later in the same process. Every module here carries ``pytest.mark.xdist_group(GROUP)`` (``__init__.py``),
so with ``--dist loadgroup`` one worker runs them all, one after the other, and loads the demo once.

A live server cannot show this workspace: its threads use their own database connections, which never see
the uncommitted demo, and ``live_server`` makes a test transactional (the database is flushed after it).
So ``demo_web`` gives the real browser an in-process site instead: Playwright hands every request for
``ORIGIN`` to Django's test client, in the test's own thread, connection and savepoint.
"""

from __future__ import annotations

import logging
import mimetypes
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.test import Client, override_settings

from townsquare.feedback import vectors
from townsquare.home.demo import demo_workspace_load
from townsquare.testing import FAST_HASHER
from townsquare.testing.browser import BrowserSession

logger = logging.getLogger(__name__)
# The browser's origin for the in-process site; no socket is ever opened for it.
ORIGIN = "http://localhost"


@pytest.fixture(scope="package")
def demo_workspace(
    django_db_setup: Any,
    django_db_blocker: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, int]]:
    """The demo workspace, loaded once for this package; yields what the first load returned."""
    override = override_settings(
        FEEDBACK_VECTOR_PATH=str(tmp_path_factory.mktemp("vectors") / "vectors.usearch"),
        PASSWORD_HASHERS=[FAST_HASHER, *settings.PASSWORD_HASHERS],  # the demo's ten users, as in every test
    )
    override.enable()
    vectors.forget_indexes()
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield demo_workspace_load()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
    vectors.forget_indexes()
    override.disable()


class InProcessSite:
    """Answers the browser's requests to ``ORIGIN`` with Django's test client; anything else is refused.

    The client keeps the session cookie itself (log it in with ``force_login``), so the browser needs
    no cookies of its own. Static files come from the staticfiles finders, as ``runserver`` does.
    """

    def __init__(self, client: Client) -> None:
        self.client = client
        # Playwright calls route handlers inside its event loop, where Django keeps a separate set of
        # connections (per async context); hand it the test's own, with its open transaction.
        self.connection = connections[DEFAULT_DB_ALIAS]

    def answer(self, route: Any) -> None:
        request = route.request
        if not request.url.startswith(f"{ORIGIN}/"):
            route.abort()
            return
        connections[DEFAULT_DB_ALIAS] = self.connection
        try:
            self._answer(route, request)
        except Exception:  # shown to the test as a 500 rather than lost inside Playwright's event loop
            logger.exception("in-process site failed on %s", request.url)
            route.fulfill(status=500, headers={"Content-Type": "text/plain"}, body=traceback.format_exc().encode())

    def _answer(self, route: Any, request: Any) -> None:
        parts = urlsplit(request.url)
        if parts.path.startswith(settings.STATIC_URL):
            self._static(route, parts.path.removeprefix(settings.STATIC_URL))
            return
        headers = {name: value for name, value in request.headers.items() if name.lower().startswith("hx-")}
        response = self.client.generic(
            request.method,
            f"{parts.path}?{parts.query}" if parts.query else parts.path,
            data=request.post_data_buffer or b"",
            content_type=request.headers.get("content-type", ""),
            headers=headers,
        )
        body = b"".join(response.streaming_content) if response.streaming else response.content
        route.fulfill(status=response.status_code, headers=dict(response.items()), body=body)

    @staticmethod
    def _static(route: Any, name: str) -> None:
        found = finders.find(name)
        if not found:
            route.fulfill(status=404, body=b"")
            return
        path = Path(found)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        route.fulfill(status=200, headers={"Content-Type": content_type}, body=path.read_bytes())


@pytest.fixture
def demo_site_client(demo_workspace: dict[str, int], db: None) -> Client:
    """The test client behind ``demo_web``'s site: log it in to browse as someone."""
    return Client(raise_request_exception=False)


@pytest.fixture
def demo_web(browser: Any, demo_site_client: Client) -> Iterator[BrowserSession]:
    """A fresh browser context on the shared demo workspace; records console errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.route("**/*", InProcessSite(demo_site_client).answer)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield BrowserSession(page=page, base_url=ORIGIN, console_errors=errors)
    finally:
        context.close()
