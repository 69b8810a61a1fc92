"""The project's URLs plus the people API under /api/v1/people/ (until townsquare/urls.py includes it)."""

from __future__ import annotations

from django.urls import include, path

from townsquare.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("api/v1/people/", include(("townsquare.people.api_urls", "people-api"))),
    *project_urlpatterns,
]
