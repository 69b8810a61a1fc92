from __future__ import annotations

from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "townsquare.intake"
    label = "intake"

    def ready(self) -> None:
        from townsquare.core import hooks
        from townsquare.intake.services import request_file_from_question

        # updates may not import intake: a question turned into a request reaches us through the hook.
        hooks.request_from_question.register(request_file_from_question)
