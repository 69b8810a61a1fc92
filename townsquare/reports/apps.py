from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "townsquare.reports"
    label = "reports"
    verbose_name = "Weekly feedback reports"

    def ready(self) -> None:
        from townsquare.core import hooks
        from townsquare.reports import erasure

        hooks.theme_routed.register(_follow_routing, key="reports.follow_routing")
        hooks.member_erase.register(erasure.member_report_quotes_erase)


def _follow_routing(*, theme: Any, previous: Any, by: Any = None) -> None:
    from townsquare.reports.services import reports_follow_routing

    if theme.department_id != getattr(previous, "pk", None):
        reports_follow_routing(theme_id=theme.pk, department=theme.department, previous=previous)
