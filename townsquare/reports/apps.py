from __future__ import annotations

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "townsquare.reports"
    label = "reports"
    verbose_name = "Weekly feedback reports"
