from __future__ import annotations

from django.urls import path

from townsquare.reports import api

urlpatterns = [
    path("", api.ReportList.as_view(), name="report-list"),
    path("<int:pk>/", api.ReportDetail.as_view(), name="report-detail"),
]
