from __future__ import annotations

from django.apps import AppConfig


class HomeConfig(AppConfig):
    name = "townsquare.home"
    label = "home"
    verbose_name = "Townsquare home"
