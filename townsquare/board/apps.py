from __future__ import annotations

from django.apps import AppConfig


class BoardConfig(AppConfig):
    name = "townsquare.board"
    label = "board"

    def ready(self) -> None:
        from townsquare.board.services import (
            announcements_release_held,
            task_create_for_request,
            task_follow_request,
        )
        from townsquare.core import hooks

        # intake sits below the board and may not import it: an accepted request reaches us through the hook.
        hooks.request_accepted.register(task_create_for_request)
        hooks.request_status_changed.register(task_follow_request)
        # notify sits below too: a new announcements destination sends the completions held for want of one.
        hooks.destination_saved.register(announcements_release_held)
