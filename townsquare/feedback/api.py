from __future__ import annotations

from typing import Any, cast

from django import forms as django_forms
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from townsquare.core.api import RoleAPIView, RoleListAPIView
from townsquare.core.errors import TownsquareError
from townsquare.core.roles import DEVREL, READERS
from townsquare.feedback import forms, selectors, services
from townsquare.feedback.models import Theme
from townsquare.sources.models import Message


class ThemeOutput(serializers.ModelSerializer):
    department = serializers.CharField(source="department.name", default=None)

    class Meta:
        model = Theme
        fields = [
            "id",
            "title",
            "key_phrases",
            "summary",
            "status",
            "department",
            "why_now",
            "issue_url",
            "addressed_release",
            "first_seen",
            "last_seen",
            "message_count",
            "people_count",
            "customer_count",
            "channel_count",
            "score",
            "score_parts",
            "merged_into",
        ]


class SearchMessageOutput(serializers.ModelSerializer):
    """A message found by search (named apart from the sources API's ``MessageOutput``: one schema component each)."""

    channel = serializers.CharField(source="channel.name", default=None)

    class Meta:
        model = Message
        fields = ["id", "source", "channel", "kind", "created_at", "title", "url"]


class ThemeRowOutput(ThemeOutput):
    """A theme of the list: its figures are the stored ones, or those of the period when the list is dated."""

    def to_representation(self, instance: Any) -> Any:
        row: selectors.InboxRow = instance
        data = super().to_representation(row.theme)
        data.update(
            score=row.score,
            people_count=row.people,
            customer_count=row.customers,
            channel_count=row.channels,
            message_count=row.messages,
            last_seen=serializers.DateTimeField().to_representation(row.last_seen) if row.last_seen else None,
            score_parts=row.parts,
        )
        return data


def _filter_parameters() -> list[OpenApiParameter]:
    """The inbox filter form's fields as query parameters: the page, the CSV export and this list share it."""
    found = []
    for name, field in forms.InboxFilterForm.base_fields.items():
        kind: Any = OpenApiTypes.STR
        enum = None
        if isinstance(field, django_forms.ModelChoiceField):
            kind = OpenApiTypes.INT
        elif isinstance(field, django_forms.DateField):
            kind = OpenApiTypes.DATE
        elif isinstance(field, django_forms.ChoiceField):
            enum = [str(value) for value, _label in cast(list[tuple[object, str]], field.choices) if value != ""]
        found.append(OpenApiParameter(name, kind, enum=enum, description=forms.INBOX_FILTER_HELP[name], required=False))
    return found


class ThemeList(RoleListAPIView[Theme]):
    """Themes with the inbox's filters, in the inbox's order; without ``view``, every live theme (``view=all``)."""

    serializer_class = ThemeRowOutput
    roles = READERS

    @extend_schema(parameters=_filter_parameters())
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        filters = forms.InboxFilterForm(request.query_params, default_view=selectors.View.ALL).filters()
        stored, ranked = selectors.inbox_rows(filters)
        rows: list[selectors.InboxRow]
        if stored is not None:
            themes = self.paginate_queryset(stored)
            rows = [selectors.stored_row(theme) for theme in (themes if themes is not None else stored)]
            paged = themes is not None
        else:
            found: list[selectors.InboxRow] = ranked or []
            # LimitOffsetPagination slices any sequence; its stubs say QuerySet only.
            chosen: list[selectors.InboxRow] | None = self.paginator.paginate_queryset(found, request, view=self)  # type: ignore[union-attr]
            rows = selectors.rows_with_themes(chosen if chosen is not None else found)
            paged = chosen is not None
        data = self.get_serializer(rows, many=True).data
        return self.get_paginated_response(data) if paged else Response(data)


class ThemeDetail(RoleAPIView, generics.RetrieveAPIView[Theme]):
    serializer_class = ThemeOutput
    roles = READERS
    queryset = Theme.objects.select_related("department")


class CurateInput(serializers.Serializer):
    action = serializers.ChoiceField(choices=["rename", "annotate", "link_issue", "address", "merge", "split", "move"])
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)
    why_now = serializers.CharField(required=False, allow_blank=True)
    url = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    release = serializers.CharField(required=False, max_length=200)
    theme_ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    message_ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    target_theme = serializers.IntegerField(required=False)


class ThemeCurate(RoleAPIView, generics.GenericAPIView[Theme]):
    """POST one curation action on a theme: rename, annotate, link_issue, address, merge (``theme_ids`` into
    this one), split (``message_ids`` out, optional ``title``), move (``message_ids`` to ``target_theme``)."""

    serializer_class = CurateInput
    roles = DEVREL
    queryset = Theme.objects.all()

    def post(self, request: Request, pk: int) -> Response:
        theme = self.get_object()
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        v: dict[str, Any] = data.validated_data
        by = self.user
        try:
            action = v["action"]
            if action == "rename":
                theme = services.theme_rename(theme=theme, title=v.get("title", ""), by=by)
            elif action == "annotate":
                theme = services.theme_annotate(theme=theme, why_now=v.get("why_now", ""), by=by)
            elif action == "link_issue":
                theme = services.theme_link_issue(theme=theme, url=v.get("url", ""), by=by)
            elif action == "address":
                theme = services.theme_mark_addressed(theme=theme, release=v.get("release", ""), by=by)
            elif action == "merge":
                theme = services.themes_merge(
                    target=theme, sources=list(Theme.objects.filter(pk__in=v.get("theme_ids", []))), by=by
                )
            elif action == "split":
                theme = services.theme_split(
                    theme=theme, message_ids=v.get("message_ids", []), title=v.get("title", ""), by=by
                )
            else:
                target = get_object_or_404(Theme, pk=v.get("target_theme") or 0)
                for message in Message.objects.filter(
                    pk__in=v.get("message_ids", []), feedback_assignment__theme=theme
                ):
                    services.message_move(message=message, theme=target, by=by)
                theme = target
        except TownsquareError as exc:
            raise ValidationError({"detail": exc.message}) from exc
        theme.refresh_from_db()
        return Response(ThemeOutput(theme).data, status=status.HTTP_200_OK)


class MessageSearch(RoleListAPIView[Message]):
    """``?q=words`` full-text across channels, or ``?like=<message id>`` for the nearest in meaning."""

    serializer_class = SearchMessageOutput
    roles = READERS
    pagination_class = None

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        like = request.query_params.get("like", "")
        if like.isdigit():
            # The nearest in meaning come ranked from the vector index, not from a query.
            anchor = get_object_or_404(Message, pk=int(like))
            nearest = [m for m, _ in services.more_like_this(message=anchor, limit=20)]
            return Response(self.get_serializer(nearest, many=True).data)
        return super().list(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Message]:
        query = self.request.query_params.get("q", "").strip()[:200]
        return selectors.message_search(query) if query else Message.objects.none()
