from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import serializers

from townsquare.core.api import RoleListAPIView
from townsquare.core.roles import DEVREL
from townsquare.notify.models import Notification


class NotificationOutput(serializers.ModelSerializer):
    target = serializers.CharField(source="target_label")

    class Meta:
        model = Notification
        fields = [
            "id",
            "event_key",
            "target",
            "title",
            "status",
            "attempts",
            "next_attempt_at",
            "sent_at",
            "last_error",
            "created_at",
        ]


class NotificationList(RoleListAPIView[Notification]):
    """The outbox, newest first; filter with ?status=pending|sending|sent|failed|waiting|dead|uncertain."""

    serializer_class = NotificationOutput
    roles = DEVREL

    def get_queryset(self) -> QuerySet[Notification]:
        rows = Notification.objects.select_related("destination")
        status = self.request.query_params.get("status")
        return rows.filter(status=status) if status else rows
