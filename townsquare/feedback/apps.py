from __future__ import annotations

from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "townsquare.feedback"
    label = "feedback"

    def ready(self) -> None:
        from townsquare.core import hooks
        from townsquare.feedback import erasure

        hooks.member_erase.register(erasure.member_feedback_erase)
