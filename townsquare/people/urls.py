from __future__ import annotations

from django.urls import path

from townsquare.people import views

app_name = "people"
urlpatterns = [
    path("teams/", views.teams, name="teams"),
    path("teams/<slug:slug>/", views.team, name="team"),
]
