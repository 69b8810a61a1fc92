from __future__ import annotations

from django.urls import path

from townsquare.home import views

# No namespace: "dashboard" is LOGIN_REDIRECT_URL and the brand link of every page.
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
