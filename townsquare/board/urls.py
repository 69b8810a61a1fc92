from __future__ import annotations

from django.urls import path

from townsquare.board import views

app_name = "board"
urlpatterns = [
    path("", views.index, name="index"),
    path("tasks/", views.task_list, name="tasks"),
    path("tasks/new/", views.task_new, name="task-new"),
    path("tasks/<int:pk>/", views.task_detail, name="task"),
    path("tasks/<int:pk>/edit/", views.task_edit, name="task-edit"),
    path("tasks/<int:pk>/move/", views.task_move, name="move"),
    path("tasks/<int:pk>/collaborators/", views.collaborator_add, name="collaborator-add"),
    path(
        "tasks/<int:pk>/collaborators/<int:collaborator_pk>/remove/",
        views.collaborator_remove,
        name="collaborator-remove",
    ),
    path("tasks/<int:pk>/thanks/", views.task_thank, name="thank"),
    path("announcements/<int:pk>/", views.announcement_detail, name="announcement"),
    path("settings/", views.board_settings, name="settings"),
    path("kudos/", views.kudos_index, name="kudos"),
    path("kudos/people/<int:user_id>/", views.kudos_person, name="kudos-person"),
    path("kudos/teams/<slug:slug>/", views.kudos_team, name="kudos-team"),
    path("done/", views.done, name="done"),
    path("done/feed.atom", views.done_atom, name="done-atom"),
]
