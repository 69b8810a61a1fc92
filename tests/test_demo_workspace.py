"""The whole demo workspace loads, and loading it again duplicates nothing in any table."""

from __future__ import annotations

import pytest
from django.apps import apps

from townsquare.core.demo import demo_workspace_load

pytestmark = pytest.mark.django_db


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in {"people", "sources", "intake", "board", "auth", "notify", "reports"}
    }


def test_the_demo_workspace_loads_once_and_again_without_duplicates() -> None:
    first = demo_workspace_load()
    counts = row_counts()
    assert counts["sources.Message"] > 5000
    assert counts["people.Member"] > 100
    assert counts["people.Account"] > 10
    assert counts["intake.Request"] > 5
    assert counts["board.Task"] > 5
    second = demo_workspace_load()
    assert row_counts() == counts
    assert second.keys() == first.keys()
