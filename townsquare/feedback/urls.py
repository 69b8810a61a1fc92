from __future__ import annotations

from django.urls import path

from townsquare.feedback import views

app_name = "feedback"
urlpatterns = [
    path("", views.index, name="index"),
    path("export/", views.export, name="export"),
    path("merge/", views.merge, name="merge"),
    path("themes/search/", views.theme_search, name="theme-search"),
    path("search/", views.search, name="search"),
    path("proposals/", views.proposals, name="proposals"),
    path("weights/", views.weights, name="weights"),
    path("themes/<int:pk>/", views.theme, name="theme"),
    path("themes/<int:pk>/<slug:action>/", views.theme_action, name="theme-action"),
    path("members/<int:member_pk>/themes/", views.member_themes, name="member-themes"),
]
