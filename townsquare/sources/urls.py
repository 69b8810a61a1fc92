from __future__ import annotations

from django.urls import path

from townsquare.sources import views

app_name = "sources"
urlpatterns = [
    path("", views.index, name="index"),
    path("sources/add/", views.source_edit, name="source-add"),
    path("sources/<int:pk>/", views.source_detail, name="source"),
    path("sources/<int:pk>/edit/", views.source_edit, name="source-edit"),
    path("sources/<int:pk>/sync/", views.source_sync, name="source-sync"),
    path("upload/", views.upload, name="upload"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("runs/<int:pk>/process/", views.run_process, name="run-process"),
    path("messages/", views.message_list, name="messages"),
    path("messages/<int:pk>/", views.message_detail, name="message"),
    path("members/<int:member_pk>/messages/", views.member_messages, name="member-messages"),
]
