"""The whole demo workspace loads, and loading it again duplicates nothing in any table."""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps
from django.utils import timezone

from townsquare.home.demo import demo_workspace_load
from townsquare.sources.models import Message, Source

from . import GROUP

pytestmark = [pytest.mark.xdist_group(GROUP), pytest.mark.django_db]


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in {"people", "sources", "intake", "board", "auth", "notify", "reports"}
    }


def test_the_demo_workspace_loads_once_and_again_without_duplicates(demo_workspace: dict[str, int]) -> None:
    # The package's shared first load (each test runs in its own savepoint, so this is the state it left).
    first = demo_workspace
    counts = row_counts()
    assert counts["sources.Message"] > 5000
    assert counts["people.Member"] > 100
    assert counts["people.Account"] > 10
    assert counts["intake.Request"] > 5
    assert counts["board.Task"] > 5
    new_messages = sum(
        value
        for key, value in first.items()
        if key.startswith("sources ") and not key.endswith("accepted as curator dana")
    )
    assert new_messages == counts["sources.Message"], "the first load imported every message there is"
    # The Acme Cloud sample is recent: dated back from the day of the first load, on four kinds of channel.
    since = timezone.now() - dt.timedelta(days=14)
    recent = Message.objects.filter(source__name__startswith="Acme Cloud", created_at__gte=since)
    assert recent.count() > 60
    assert set(recent.values_list("source__kind", flat=True)) == {
        "github_archive",
        "discourse_archive",
        "slack_export",
        "stackexchange_dump",
    }
    anchors = {s.config["demo_anchor"] for s in Source.objects.filter(name__startswith="Acme Cloud")}
    assert len(anchors) == 1
    second = demo_workspace_load()  # in this test's savepoint: the other tests never see it
    assert row_counts() == counts
    assert second.keys() == first.keys()
    assert all(value == 0 for key, value in second.items() if key.startswith("sources "))
