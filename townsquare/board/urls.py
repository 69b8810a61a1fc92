from __future__ import annotations

from django.urls import path

from townsquare.board import views

app_name = "board"
urlpatterns = [path("", views.index, name="index")]
