"""The project's URLs plus the board API, for tests until townsquare/urls.py includes it."""

from __future__ import annotations

from django.urls import include, path

from townsquare import urls as root

_included = any("board" in str(getattr(p, "pattern", "")) for p in root.api_v1)
api_v1 = root.api_v1 if _included else [*root.api_v1, path("board/", include("townsquare.board.api_urls"))]
urlpatterns = [p for p in root.urlpatterns if getattr(p, "namespace", None) != "api"]
urlpatterns.append(path("api/v1/", include((api_v1, "api"))))
