"""The project's URLs plus the feedback API at the path the project will include it under."""

from __future__ import annotations

from django.urls import include, path

from townsquare.urls import urlpatterns as project_urlpatterns

urlpatterns = [path("api/v1/feedback/", include("townsquare.feedback.api_urls")), *project_urlpatterns]
