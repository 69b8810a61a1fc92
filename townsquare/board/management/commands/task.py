"""``townsquare task done ID`` (and ``move``, ``list``) for scripts."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django_rich.management import RichCommand
from rich.markup import escape
from rich.table import Table

from townsquare.board import services
from townsquare.board.models import Announcement, Column, Task
from townsquare.core.errors import TownsquareError


class Command(RichCommand):
    help = "Work with board tasks: `task done ID` moves a task to Done and announces it; also `move` and `list`."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        done = sub.add_parser("done", help="Move a task to Done (announced once per completion).")
        done.add_argument("id", type=int)
        done.add_argument("--by", help="Username recorded as who finished it (default: nobody, shown as Townsquare).")
        move = sub.add_parser("move", help="Move a task to a column.")
        move.add_argument("id", type=int)
        move.add_argument("column", choices=Column.values)
        move.add_argument("--by", help="Username recorded in the history.")
        listing = sub.add_parser("list", help="List tasks.")
        listing.add_argument("--column", choices=Column.values)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            self._list(options.get("column"))
            return
        task = Task.objects.filter(pk=options["id"]).first()
        if task is None:
            raise CommandError(f"no task with id {options['id']}")
        by = self._user(options.get("by"))
        column = Column.DONE if action == "done" else options["column"]
        try:
            if action == "done":
                task = services.task_done(task=task, by=by)
            else:
                task = services.task_move(task=task, column=column, by=by)
        except TownsquareError as exc:
            raise CommandError(str(exc)) from exc
        self.console.print(f"Task {task.pk} “{escape(task.title)}” is now in {task.get_column_display()}.")
        if column == Column.DONE:
            announcement = task.announcements.order_by("-completion").first()
            if announcement is None:
                return
            if announcement.status == Announcement.Status.DRAFT:
                url = task.absolute_url.rsplit("/board/", 1)[0] + announcement.get_absolute_url()
                self.console.print(f"The announcement waits for review: {url}")
            else:
                self.console.print(
                    f"Announcement queued for {announcement.destinations} destination(s)"
                    f"{' (reopened)' if announcement.reopened else ''}."
                )

    def _user(self, username: str | None) -> Any:
        if not username:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}")
        return user

    def _list(self, column: str | None) -> None:
        tasks = Task.objects.select_related("owner").order_by("column", "position", "id")
        if column:
            tasks = tasks.filter(column=column)
        table = Table()
        for heading in ("id", "column", "title", "owner"):
            table.add_column(heading)
        for task in tasks[:500]:
            owner = (task.owner.get_full_name() or task.owner.get_username()) if task.owner else ""
            table.add_row(str(task.pk), task.get_column_display(), escape(task.title), escape(owner))
        self.console.print(table)
