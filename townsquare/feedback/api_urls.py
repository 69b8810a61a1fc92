from __future__ import annotations

from django.urls import path

from townsquare.feedback import api

urlpatterns = [
    path("themes/", api.ThemeList.as_view(), name="feedback-theme-list"),
    path("themes/<int:pk>/", api.ThemeDetail.as_view(), name="feedback-theme-detail"),
    path("themes/<int:pk>/curate/", api.ThemeCurate.as_view(), name="feedback-theme-curate"),
    path("search/", api.MessageSearch.as_view(), name="feedback-search"),
]
