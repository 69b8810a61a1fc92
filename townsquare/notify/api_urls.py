from __future__ import annotations

from django.urls import path

from townsquare.notify import api

urlpatterns = [path("notifications/", api.NotificationList.as_view(), name="notification-list")]
