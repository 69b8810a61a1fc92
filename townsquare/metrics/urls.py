from __future__ import annotations

from django.urls import path

from townsquare.metrics import views

app_name = "metrics"
urlpatterns = [
    path("", views.index, name="index"),
    path("health/", views.health, name="health"),
    path("health/recompute/", views.recompute, name="recompute"),
    path("health/export/<slug:table>.csv", views.health_export, name="health-export"),
    path("channels/", views.channels, name="channels"),
    path("channels/export/<slug:table>.csv", views.channels_export, name="channels-export"),
    path("channels/scenarios/", views.scenario_save, name="scenario-save"),
    path("channels/scenarios/<int:pk>/", views.scenario, name="scenario"),
]
