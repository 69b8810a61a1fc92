from __future__ import annotations

import pytest

from townsquare.board.demo import board_demo_load
from townsquare.board.models import Collaborator, Column, Kudos, Task, TaskEvent
from townsquare.home.demo import demo_load

pytestmark = pytest.mark.django_db


def test_the_demo_board_fills_every_column_and_loads_twice_without_duplicates() -> None:
    demo_load()
    first = board_demo_load()
    counts = (Task.objects.count(), Collaborator.objects.count(), Kudos.objects.count(), TaskEvent.objects.count())
    again = board_demo_load()
    assert (
        Task.objects.count(),
        Collaborator.objects.count(),
        Kudos.objects.count(),
        TaskEvent.objects.count(),
    ) == counts
    assert first["created"] == first["tasks"] and again["created"] == 0
    assert set(Task.objects.values_list("column", flat=True)) == set(Column.values)
    other_teams = Collaborator.objects.exclude(team__slug="devrel").exclude(team=None)
    assert other_teams.values("team").distinct().count() >= 4
    assert Kudos.objects.filter(kind=Kudos.Kind.CREDIT).count() >= 4
    assert Kudos.objects.filter(kind=Kudos.Kind.THANKS).exists()
    done = Task.objects.filter(column=Column.DONE)
    assert done.count() >= 2 and all(task.announcements.exists() for task in done)
