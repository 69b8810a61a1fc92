from __future__ import annotations

from django.urls import path

from townsquare.board import api

urlpatterns = [
    path("tasks/", api.TaskListCreate.as_view(), name="board-task-list"),
    path("tasks/<int:pk>/", api.TaskDetail.as_view(), name="board-task"),
    path("tasks/<int:pk>/move/", api.TaskMove.as_view(), name="board-task-move"),
    path("kudos/", api.KudosListCreate.as_view(), name="board-kudos-list"),
]
