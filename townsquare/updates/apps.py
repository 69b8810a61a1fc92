from __future__ import annotations

from django.apps import AppConfig


class UpdatesConfig(AppConfig):
    name = "townsquare.updates"
    label = "updates"
