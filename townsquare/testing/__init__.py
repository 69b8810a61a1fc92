"""Helpers the test suite shares; ``conftest.py`` wraps them in fixtures. Nothing in the product imports this.

Import them from here (or the submodules), never from ``conftest``: pytest loads conftest files itself, and
importing one as a module loads it a second time.
"""

from __future__ import annotations

import os

import pytest

# Test users get real passwords and log in for real; MD5 keeps hashing them from dominating the suite.
FAST_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unreachable(reason: str) -> None:
    """Skip locally, fail in CI: a missing service must never pass CI silently."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: this is a failure, not a skip)")
    pytest.skip(reason)
