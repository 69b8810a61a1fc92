from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from townsquare.core.errors import TownsquareError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn service errors into 400 responses that name the record and the reason."""
    if isinstance(exc, TownsquareError):
        detail: dict[str, Any] = {"detail": exc.message}
        if exc.record is not None:
            detail["record"] = str(exc.record)
        exc = ValidationError(detail)
    return drf_exception_handler(exc, context)


class MeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField()
    full_name = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    teams = serializers.ListField(child=serializers.CharField())
