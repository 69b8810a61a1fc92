"""The whole demo workspace loads, and loading it again duplicates nothing in any table."""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps
from django.utils import timezone

from townsquare.core.demo import demo_workspace_load
from townsquare.sources.models import Message, Source

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
    # The Acme Cloud sample is recent: dated back from the day of the first load, on four kinds of channel.
    since = timezone.now() - dt.timedelta(days=14)
    recent = Message.objects.filter(source__name__startswith="Acme Cloud", created_at__gte=since)
    assert recent.count() > 60
    assert set(recent.values_list("source__kind", flat=True)) == {
        "github_archive", "discourse_archive", "slack_export", "stackexchange_dump"}
    anchors = {s.config["demo_anchor"] for s in Source.objects.filter(name__startswith="Acme Cloud")}
    assert len(anchors) == 1
    second = demo_workspace_load()
    assert row_counts() == counts
    assert second.keys() == first.keys()
    assert all(value == 0 for key, value in second.items() if key.startswith("sources "))
