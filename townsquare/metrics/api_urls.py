from __future__ import annotations

from django.urls import path

from townsquare.metrics import api, downloads_api

urlpatterns = [
    path("downloads/", downloads_api.DownloadsApi.as_view(), name="metrics-downloads"),
    path("health/", api.HealthApi.as_view(), name="metrics-health"),
    path("health/recompute/", api.RecomputeApi.as_view(), name="metrics-recompute"),
    path("channels/", api.ChannelsApi.as_view(), name="metrics-channels"),
    path("scenarios/", api.ScenarioListApi.as_view(), name="metrics-scenario-list"),
]
