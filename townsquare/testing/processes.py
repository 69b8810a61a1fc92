"""Child processes (workers, the ``townsquare`` command) that a test points at its own test database."""

from __future__ import annotations

import os
import sys


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
    # The child must use the URL above, not build a test database of its own.
    env.pop("TOWNSQUARE_TEST_SQLITE_PATH", None)
    env.update(extra)
    return env


def townsquare_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "townsquare.cli", *args]
