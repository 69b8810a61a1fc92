"""System checks behind ``townsquare check``: one line per problem, naming the setting."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.db import connection
from django.db.utils import OperationalError


@register("townsquare")
def check_database(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    try:
        connection.ensure_connection()
    except OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        return [Error(f"TOWNSQUARE_DATABASE_URL: cannot connect to the database ({first_line})", id="townsquare.E001")]
    return []


@register("townsquare")
def check_task_queue(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    if settings.TASKS_BACKEND != "rq":
        return []
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        return [
            Error(f"TOWNSQUARE_REDIS_URL: cannot reach Redis for the rq task backend ({exc})", id="townsquare.E002")
        ]
    return []


@register("townsquare")
def check_production(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    problems: list[Any] = []
    if not settings.EMAIL_URL:
        problems.append(
            Warning("TOWNSQUARE_EMAIL_URL: not set, so email notifications cannot be delivered", id="townsquare.W001")
        )
    if settings.MODE != "production":
        return problems
    if settings.DEBUG:
        problems.append(Error("TOWNSQUARE_DEBUG: must be off when TOWNSQUARE_MODE=production", id="townsquare.E003"))
    if "*" in settings.ALLOWED_HOSTS:
        problems.append(Warning("TOWNSQUARE_ALLOWED_HOSTS: '*' accepts any Host header", id="townsquare.W002"))
    if not settings.BASE_URL.startswith("https://"):
        problems.append(Warning("TOWNSQUARE_BASE_URL: serve over https in production", id="townsquare.W003"))
    elif not getattr(settings, "SECURE_HSTS_SECONDS", 0):
        problems.append(
            Warning(
                "TOWNSQUARE_HSTS_SECONDS: 0, so browsers are not told to use https only (HSTS); "
                "31536000 (a year) is the usual value",
                id="townsquare.W004",
            )
        )
    if settings.TASKS_BACKEND == "immediate":
        problems.append(
            Error(
                "TOWNSQUARE_TASKS_BACKEND: 'immediate' runs work inside web requests; use database or rq",
                id="townsquare.E004",
            )
        )
    return problems
