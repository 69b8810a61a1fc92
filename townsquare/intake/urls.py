from __future__ import annotations

from django.urls import path

from townsquare.intake import views

app_name = "intake"
urlpatterns = [path("", views.index, name="index")]
