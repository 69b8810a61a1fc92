from __future__ import annotations

from django.urls import path

from townsquare.updates import views

app_name = "updates"
urlpatterns = [path("", views.index, name="index")]
