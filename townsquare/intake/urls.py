from __future__ import annotations

from django.urls import path

from townsquare.intake import views

app_name = "intake"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/<slug:slug>/", views.request_new, name="file"),
    path("<int:pk>/", views.request_detail, name="request"),
    path("<int:pk>/triage/", views.request_triage, name="triage-request"),
    path("<int:pk>/offer-mentoring/", views.request_offer_mentoring, name="offer-mentoring"),
    path("<int:pk>/start/", views.request_start, name="start"),
    path("<int:pk>/done/", views.request_done, name="done"),
    path("<int:pk>/cancel/", views.request_cancel, name="cancel"),
    path("triage/", views.triage, name="triage"),
    path("teams/<slug:slug>/", views.team_page, name="team"),
    path("teams/<slug:slug>/priorities/", views.team_reorder, name="reorder"),
    path("budgets/", views.budgets, name="budgets"),
    path("budgets/<int:pk>/adjust/", views.budget_adjust, name="budget-adjust"),
    path("budgets/<int:pk>/close/", views.budget_close, name="budget-close"),
    path("summary/", views.summary, name="summary"),
    path("types/", views.types, name="types"),
    path("types/new/", views.type_edit, name="type-new"),
    path("types/<int:pk>/", views.type_edit, name="type"),
]
