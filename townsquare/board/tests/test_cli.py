from __future__ import annotations

import subprocess

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from townsquare.board.models import Column, Task
from townsquare.board.tests.factories import TaskFactory
from townsquare.notify.models import Notification


@pytest.mark.django_db
def test_task_done_moves_the_task_and_queues_one_announcement(devrel, chat_room, capsys) -> None:
    task = TaskFactory(title="Ship the SDK docs", column=Column.REVIEW)
    call_command("task", "done", str(task.pk), "--by", "ari")
    out = capsys.readouterr().out
    assert f"Task {task.pk} “Ship the SDK docs” is now in Done." in out
    assert "Announcement queued for 1 destination(s)." in out
    task.refresh_from_db()
    assert (task.column, task.done_by) == (Column.DONE, devrel)
    with pytest.raises(CommandError, match="already done"):
        call_command("task", "done", str(task.pk))
    assert Notification.objects.count() == 1


@pytest.mark.django_db
def test_task_commands_refuse_bad_input_in_one_line() -> None:
    with pytest.raises(CommandError, match="no task with id 424242"):
        call_command("task", "done", "424242")
    task = TaskFactory()
    with pytest.raises(CommandError, match="no user named 'ghost'"):
        call_command("task", "move", str(task.pk), "doing", "--by", "ghost")


@pytest.mark.django_db
def test_task_list_and_move(capsys) -> None:
    task = TaskFactory(title="Meetup in Lisbon")
    call_command("task", "move", str(task.pk), "doing")
    call_command("task", "list", "--column", "doing")
    assert "Meetup in Lisbon" in capsys.readouterr().out
    assert Task.objects.get().column == Column.DOING


@pytest.mark.django_db(transaction=True)
def test_the_townsquare_command_finishes_a_task(devrel, chat_room) -> None:
    from townsquare.testing.processes import subprocess_env, townsquare_command

    task = TaskFactory(title="Release notes", column=Column.REVIEW)
    result = subprocess.run(
        townsquare_command("task", "done", str(task.pk), "--by", "ari"),
        check=False,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "is now in Done" in result.stdout
    assert Notification.objects.get().event_key == f"board.task_done:{task.pk}:1"
