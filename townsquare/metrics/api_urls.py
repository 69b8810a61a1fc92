from __future__ import annotations

from django.urls import path

from townsquare.metrics import downloads_api

urlpatterns = [
    path("downloads/", downloads_api.DownloadsApi.as_view(), name="metrics-downloads"),
]
