from __future__ import annotations

from django.urls import path

from townsquare.updates import views

app_name = "updates"
urlpatterns = [
    path("", views.index, name="index"),
    path("audiences/new/", views.audience_edit, name="audience_new"),
    path("audiences/<int:pk>/", views.audience_detail, name="audience"),
    path("audiences/<int:pk>/edit/", views.audience_edit, name="audience_edit"),
    path("audiences/<int:pk>/build/", views.audience_build, name="audience_build"),
    path("<int:pk>/", views.update_detail, name="update"),
    path("<int:pk>/edit/", views.draft_edit, name="edit"),
    path("<int:pk>/send/", views.draft_send, name="send"),
    path("<int:pk>/ask/", views.ask, name="ask"),
    path("questions/<int:pk>/answer/", views.question_answer, name="answer"),
    path("questions/<int:pk>/convert/", views.question_convert, name="convert"),
]
