from __future__ import annotations

from django.urls import path

from townsquare.sources import views

app_name = "sources"
urlpatterns = [path("", views.index, name="index")]
