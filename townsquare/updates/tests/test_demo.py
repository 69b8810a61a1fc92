from __future__ import annotations

import pytest

from townsquare.board.demo import board_demo_load
from townsquare.home.demo import demo_load
from townsquare.notify.models import Notification
from townsquare.updates.demo import updates_demo_load
from townsquare.updates.models import Audience, Question, Update

pytestmark = pytest.mark.django_db


def test_the_demo_has_two_audiences_a_sent_update_and_an_answered_question_once() -> None:
    demo_load()
    board_demo_load()
    assert updates_demo_load() == {"audiences": 2, "questions": 1}
    assert updates_demo_load() == {"audiences": 2, "questions": 1}
    assert sorted(Audience.objects.values_list("name", flat=True)) == ["Sales", "Support"]
    update = Update.objects.get()
    assert update.is_sent and update.audience.name == "Sales"
    assert Question.objects.get().is_answered
    assert Notification.objects.filter(event_key=f"updates.sent:{update.pk}", email="sofia@example.com").count() == 1
