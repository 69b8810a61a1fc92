from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.utils.decorators import method_decorator
from rest_framework import generics, serializers
from rest_framework.permissions import IsAuthenticated

from townsquare.core import roles
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


@method_decorator(login_not_required, name="dispatch")
class NotificationList(generics.ListAPIView):
    """The outbox, newest first; filter with ?status=pending|sending|sent|failed|dead|uncertain."""

    serializer_class = NotificationOutput
    permission_classes = [IsAuthenticated, roles.HasRole]
    allowed_roles = roles.DEVREL

    def get_queryset(self):  # type: ignore[no-untyped-def]
        rows = Notification.objects.select_related("destination")
        status = self.request.query_params.get("status")
        return rows.filter(status=status) if status else rows
