from __future__ import annotations

from collections.abc import Iterator

import pytest

from townsquare.sources.tests.replay import ReplayServer


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    server = ReplayServer()
    try:
        yield server
    finally:
        server.close()
