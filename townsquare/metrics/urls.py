from __future__ import annotations

from django.urls import path

from townsquare.metrics import downloads_views, views

app_name = "metrics"
urlpatterns = [
    path("", views.index, name="index"),
    path("downloads/", downloads_views.downloads, name="downloads"),
    path("downloads/export.csv", downloads_views.downloads_export, name="downloads-export"),
    path("downloads/fetch/", downloads_views.downloads_fetch, name="downloads-fetch"),
    path("downloads/packages/", downloads_views.package_add, name="downloads-package-add"),
    path("downloads/packages/<int:pk>/", downloads_views.package_edit, name="downloads-package-edit"),
    path("downloads/packages/<int:pk>/remove/", downloads_views.package_remove, name="downloads-package-remove"),
    path("health/", views.health, name="health"),
    path("health/recompute/", views.recompute, name="recompute"),
    path("health/export/<slug:table>.csv", views.health_export, name="health-export"),
    path("channels/", views.channels, name="channels"),
    path("channels/export/<slug:table>.csv", views.channels_export, name="channels-export"),
    path("channels/scenarios/", views.scenario_save, name="scenario-save"),
    path("channels/scenarios/<int:pk>/", views.scenario, name="scenario"),
]
