"""Board API: list, create and move tasks (moving to Done announces it), and kudos."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from townsquare.board import selectors, services
from townsquare.board.models import Collaborator, Column, Kudos, Label, Task, Visibility
from townsquare.core.api import RoleAPIView
from townsquare.core.roles import ALL, DEVREL
from townsquare.people.models import Team


class CollaboratorOutput(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name")
    team: serializers.SlugRelatedField[Team] = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Collaborator
        fields = ["id", "user", "name", "team", "contribution"]


class TaskOutput(serializers.ModelSerializer):
    labels: serializers.SlugRelatedField[Label] = serializers.SlugRelatedField(
        slug_field="name", many=True, read_only=True
    )
    collaborators = CollaboratorOutput(many=True, read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = [
            "id",
            "title",
            "description",
            "column",
            "position",
            "owner",
            "due_date",
            "labels",
            "visibility",
            "completions",
            "done_at",
            "collaborators",
            "url",
            "created_at",
            "updated_at",
        ]

    def get_url(self, task: Task) -> str:
        return task.absolute_url


class TaskInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    column = serializers.ChoiceField(choices=Column.choices, default=Column.BACKLOG)
    owner = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.all(), required=False, allow_null=True)
    due_date = serializers.DateField(required=False, allow_null=True)
    labels = serializers.ListField(child=serializers.CharField(max_length=50), required=False, default=list)
    visibility = serializers.ChoiceField(choices=Visibility.choices, default=Visibility.PUBLIC)


class MoveInput(serializers.Serializer):
    column = serializers.ChoiceField(choices=Column.choices)
    before = serializers.IntegerField(
        required=False, allow_null=True, help_text="Put the task above this task of the same column; default: the end."
    )


class TaskListCreate(RoleAPIView, generics.ListCreateAPIView[Task]):
    """Tasks the caller may see; filter with ?column=, ?owner=<user id>, ?label=<slug>, ?team=<slug>."""

    serializer_class = TaskOutput
    roles = DEVREL
    read_roles = ALL

    def get_queryset(self) -> QuerySet[Task]:
        filters = selectors.board_filters_from(self.request.query_params)
        tasks = selectors.with_card_data(selectors.tasks_filtered(self.user, filters))
        column = self.request.query_params.get("column")
        if column:
            tasks = tasks.filter(column=column)
        return tasks.order_by("column", "position", "id")

    @extend_schema(request=TaskInput, responses={201: TaskOutput})
    def post(self, request: Request) -> Response:
        data = TaskInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        task = services.task_create(
            title=values["title"],
            description=values["description"],
            column=values["column"],
            owner=values.get("owner"),
            due_date=values.get("due_date"),
            labels=values["labels"],
            visibility=values["visibility"],
            by=self.user,
        )
        return Response(
            TaskOutput(selectors.task_get_for_user(self.user, task.pk)).data, status=status.HTTP_201_CREATED
        )


class TaskDetail(RoleAPIView, generics.RetrieveAPIView[Task]):
    serializer_class = TaskOutput
    roles = ALL

    def get_object(self) -> Task:
        return selectors.task_get_for_user(self.user, self.kwargs["pk"])


class TaskMove(RoleAPIView):
    """Move a task to a column; moving it to Done announces it (once per completion)."""

    roles = DEVREL

    @extend_schema(request=MoveInput, responses={200: TaskOutput})
    def post(self, request: Request, pk: int) -> Response:
        task = selectors.task_get_for_user(self.user, pk)
        data = MoveInput(data=request.data)
        data.is_valid(raise_exception=True)
        before_pk = data.validated_data.get("before")
        before = get_object_or_404(Task, pk=before_pk) if before_pk else None
        services.task_move(task=task, column=data.validated_data["column"], before=before, by=self.user)
        return Response(TaskOutput(selectors.task_get_for_user(self.user, pk)).data)


class KudosOutput(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name")
    team: serializers.SlugRelatedField[Team] = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    given_by: serializers.PrimaryKeyRelatedField[User] = serializers.PrimaryKeyRelatedField(read_only=True)
    task = serializers.SerializerMethodField()

    class Meta:
        model = Kudos
        fields = ["id", "kind", "user", "name", "team", "message", "task", "given_by", "created_at"]

    def get_task(self, kudos: Kudos) -> int | None:
        task = kudos.task
        if task is None:
            return None
        visible = task.visibility == Visibility.PUBLIC or selectors.can_edit(self.context["request"].user)
        return kudos.task_id if visible else None


class KudosInput(serializers.Serializer):
    user = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.all(), required=False, allow_null=True)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all(), required=False, allow_null=True)
    task = serializers.IntegerField(required=False, allow_null=True)
    message = serializers.CharField(max_length=500)


class KudosListCreate(RoleAPIView, generics.ListCreateAPIView[Kudos]):
    """The kudos ledger; filter with ?user=<id>, ?team=<slug>, ?start=YYYY-MM-DD, ?end=YYYY-MM-DD.

    POST records an explicit thank-you.
    """

    serializer_class = KudosOutput
    roles = ALL

    def get_queryset(self) -> QuerySet[Kudos]:
        params = self.request.query_params
        period = selectors.Period(start=_date(params.get("start")), end=_date(params.get("end")))
        user = get_user_model().objects.filter(pk=params["user"]).first() if params.get("user", "").isdigit() else None
        team = Team.objects.filter(slug=params["team"]).first() if params.get("team") else None
        kudos = selectors.kudos_ledger(period=period, user=user, team=team)
        if (params.get("user") and user is None) or (params.get("team") and team is None):
            return kudos.none()
        return kudos

    @extend_schema(request=KudosInput, responses={201: KudosOutput})
    def post(self, request: Request) -> Response:
        data = KudosInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        task = selectors.task_get_for_user(self.user, values["task"]) if values.get("task") else None
        kudos = services.kudos_give(
            by=self.user,
            user=values.get("user"),
            name=values["name"],
            team=values.get("team"),
            task=task,
            message=values["message"],
        )
        return Response(KudosOutput(kudos, context={"request": request}).data, status=status.HTTP_201_CREATED)


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise serializers.ValidationError({"detail": f"not a date: {value!r}; use YYYY-MM-DD"}) from exc
