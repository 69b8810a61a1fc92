from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from townsquare.sources.tests.replay import ReplayServer

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "downloads"


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def fixture_json(name: str) -> Any:
    return json.loads(fixture_text(name))


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def registry(settings: Any) -> Iterator[ReplayServer]:
    """One local server standing in for all four registries (their paths do not overlap)."""
    server = ReplayServer()
    for name in ("PYPI", "NPM", "DOCKER", "GITHUB"):
        setattr(settings, f"DOWNLOADS_{name}_URL", server.base)
    settings.DOWNLOADS_TIMEOUT_SECONDS = 5
    settings.DOWNLOADS_MAX_RETRY_WAIT_SECONDS = 2
    settings.DOWNLOADS_GITHUB_TOKEN = ""
    yield server
    server.close()
