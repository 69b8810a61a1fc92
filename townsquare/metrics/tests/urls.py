"""The project's URLs plus the metrics API, until townsquare/urls.py includes it in ``api_v1``."""

from __future__ import annotations

from django.urls import URLResolver, include, path

from townsquare import urls as project

_has_metrics = any("townsquare.metrics.api_urls" in str(getattr(p, "urlconf_name", "")) for p in project.api_v1)
_api_v1 = project.api_v1 if _has_metrics else [*project.api_v1, path("value/", include("townsquare.metrics.api_urls"))]
urlpatterns = [
    path("api/v1/", include((_api_v1, "api"))) if isinstance(p, URLResolver) and str(p.pattern) == "api/v1/" else p
    for p in project.urlpatterns
]
