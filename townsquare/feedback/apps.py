from __future__ import annotations

from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "townsquare.feedback"
    label = "feedback"

    def ready(self) -> None:
        from townsquare.core import hooks
        from townsquare.feedback import erasure, processing_status

        hooks.member_erase.register(erasure.member_feedback_erase)
        hooks.messages_processing_status.register(processing_status.source_processing_status)
        hooks.messages_process_requested.register(processing_status.process_now)
