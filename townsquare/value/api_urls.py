from __future__ import annotations

from django.urls import path

from townsquare.value import api

urlpatterns = [
    path("quarters/", api.QuarterList.as_view(), name="value-quarter-list"),
    path("quarters/figures/", api.FigureRegistry.as_view(), name="value-figure-registry"),
    path("quarters/<str:key>/", api.QuarterDetail.as_view(), name="value-quarter"),
    path("quarters/<str:key>/figures/", api.QuarterFigures.as_view(), name="value-quarter-figures"),
]
