from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from townsquare.feedback import vectors


@pytest.fixture(autouse=True)
def fresh_vector_index(settings: Any, tmp_path: Path) -> Iterator[None]:
    """Each test gets its own vector index file (database rows roll back; the file would not)."""
    settings.FEEDBACK_VECTOR_PATH = str(tmp_path / "vectors.usearch")
    vectors.forget_indexes()
    yield
    vectors.forget_indexes()
