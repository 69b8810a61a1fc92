"""intake sits below the board: an accepted request reaches the board through core's request_accepted hook."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from townsquare.board.models import Task
from townsquare.board.tests.support import accepted_request
from townsquare.core import hooks
from townsquare.intake.models import LedgerEntry, Request

pytestmark = pytest.mark.django_db


class ChatDown(Exception):
    pass


@pytest.fixture
def failing_after_the_board() -> Iterator[list[Any]]:
    """A second handler that fails once the board's has made its task (a later app's handler breaking)."""
    seen: list[Any] = []

    def refuse(*, request: Any, by: Any) -> None:
        seen.append(Task.objects.filter(origin_request=request).count())
        raise ChatDown("the next handler failed")

    hooks.request_accepted.register(refuse, key="test: fails after the board")
    try:
        yield seen
    finally:
        hooks.request_accepted.unregister("test: fails after the board")


def test_the_board_registers_its_handler_when_the_app_is_ready() -> None:
    assert [key for key, _ in hooks.request_accepted.handlers()] == [
        "townsquare.board.services.task_create_for_request"
    ]


def test_the_acceptance_and_its_task_roll_back_together(
    make_user: Any, devrel: Any, failing_after_the_board: list[Any]
) -> None:
    with pytest.raises(ChatDown):
        accepted_request(make_user, by=devrel)
    assert failing_after_the_board == [1]  # the board had made the task inside request_accept's transaction
    assert Task.objects.count() == 0
    assert Request.objects.get().status == Request.Status.FILED
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.SPEND).exists()
