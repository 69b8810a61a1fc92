from __future__ import annotations

from django.apps import AppConfig


class SourcesConfig(AppConfig):
    name = "townsquare.sources"
    label = "sources"

    def ready(self) -> None:
        from townsquare.core import hooks
        from townsquare.sources import member_data, selectors

        # people sits below sources: its GDPR services and directory reach the messages through these hooks.
        hooks.member_erase.register(member_data.member_messages_erase)
        hooks.member_export.register(member_data.member_messages_export)
        hooks.member_message_counts.register(selectors.member_message_counts)
        hooks.member_weekly_activity.register(selectors.member_weekly_activity)
        hooks.members_identities_moved.register(member_data.members_activity_refresh)
