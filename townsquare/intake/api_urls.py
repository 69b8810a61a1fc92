from __future__ import annotations

from django.urls import path

from townsquare.intake import api

urlpatterns = [
    path("types/", api.RequestTypeListApi.as_view(), name="intake-type-list"),
    path("requests/", api.RequestListApi.as_view(), name="intake-request-list"),
    path("requests/<int:pk>/", api.RequestDetailApi.as_view(), name="intake-request-detail"),
    path("requests/<int:pk>/triage/", api.RequestTriageApi.as_view(), name="intake-request-triage"),
    path("requests/<int:pk>/status/", api.RequestStatusApi.as_view(), name="intake-request-status"),
    path("requests/<int:pk>/cancel/", api.RequestCancelApi.as_view(), name="intake-request-cancel"),
    path("teams/<slug:slug>/priorities/", api.TeamReorderApi.as_view(), name="intake-team-priorities"),
    path("budgets/", api.BudgetListApi.as_view(), name="intake-budget-list"),
    path("budgets/<int:pk>/ledger/", api.BudgetLedgerApi.as_view(), name="intake-budget-ledger"),
    path("summary/", api.QuarterSummaryApi.as_view(), name="intake-summary"),
]
