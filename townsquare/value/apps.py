from __future__ import annotations

from django.apps import AppConfig


class ValueConfig(AppConfig):
    name = "townsquare.value"
    label = "value"
    verbose_name = "Quarterly value report"
