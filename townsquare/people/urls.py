from __future__ import annotations

from django.urls import path

from townsquare.people import views

app_name = "people"
urlpatterns = [
    path("", views.directory, name="directory"),
    path("export.csv", views.directory_export, name="directory-export"),
    path("segments/", views.segment_save, name="segment-save"),
    path("segments/<int:pk>/delete/", views.segment_delete, name="segment-delete"),
    path("members/<int:pk>/", views.member, name="member"),
    path("members/<int:pk>/merge/", views.member_merge, name="member-merge"),
    path("members/<int:pk>/split/", views.member_split, name="member-split"),
    path("members/<int:pk>/erase/", views.member_erase, name="member-erase"),
    path("members/<int:pk>/export/", views.member_export, name="member-export"),
    path("merges/", views.merges, name="merges"),
    path("merges/<int:pk>/undo/", views.merge_undo, name="merge-undo"),
    path("suggestions/", views.suggestions, name="suggestions"),
    path("suggestions/<int:pk>/accept/", views.suggestion_decide, {"decision": "accept"}, name="suggestion-accept"),
    path("suggestions/<int:pk>/reject/", views.suggestion_decide, {"decision": "reject"}, name="suggestion-reject"),
    path("erasures/", views.erasures, name="erasures"),
    path("organizations/", views.organizations, name="organizations"),
    path("organizations/<int:pk>/", views.organization, name="organization"),
    path("accounts/", views.accounts, name="accounts"),
    path("accounts/import/", views.accounts_import, name="accounts-import"),
    path("teams/", views.teams, name="teams"),
    path("teams/<slug:slug>/", views.team, name="team"),
]
