from __future__ import annotations

from django.urls import path

from townsquare.sources import api

urlpatterns = [
    path("sources/", api.SourceList.as_view(), name="source-list"),
    path("sources/<int:pk>/", api.SourceDetail.as_view(), name="source-detail"),
    path("runs/", api.RunList.as_view(), name="run-list"),
    path("messages/", api.MessageList.as_view(), name="message-list"),
]
