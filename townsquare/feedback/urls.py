from __future__ import annotations

from django.urls import path

from townsquare.feedback import views

app_name = "feedback"
urlpatterns = [path("", views.index, name="index")]
