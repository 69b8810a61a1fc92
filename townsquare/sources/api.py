from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError

from townsquare.core.api import RoleAPIView, RoleListAPIView
from townsquare.core.roles import DEVREL
from townsquare.sources import selectors
from townsquare.sources.models import Message, Source, SyncRun


class RunOutput(serializers.ModelSerializer):
    class Meta:
        model = SyncRun
        fields = [
            "id",
            "source",
            "status",
            "started_at",
            "finished_at",
            "new",
            "updated",
            "unchanged",
            "rejected",
            "error",
            "progress_done",
            "progress_total",
        ]


class SourceOutput(serializers.ModelSerializer):
    last_run = serializers.SerializerMethodField()

    class Meta:
        model = Source
        fields = ["id", "name", "kind", "config", "schedule", "enabled", "created_at", "last_synced_at", "last_run"]

    def get_last_run(self, obj: Source) -> dict[str, Any] | None:
        run = obj.runs.first()
        return RunOutput(run).data if run else None


class MessageOutput(serializers.ModelSerializer):
    # A field named like Field.source, which the stubs type as the field's own source path.
    source = serializers.CharField(source="source.name")  # type: ignore[assignment]
    channel = serializers.CharField(source="channel.name", default="")
    author = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = [
            "id",
            "source",
            "channel",
            "external_id",
            "kind",
            "author",
            "created_at",
            "updated_at",
            "title",
            "body",
            "url",
            "thread_external_id",
            "parent_external_id",
            "language",
            "version",
        ]

    def get_author(self, obj: Message) -> dict[str, Any] | None:
        if obj.author is None:
            return None
        return {
            "identity": obj.author_id,
            "member": obj.author.member_id,
            "realm": obj.author.realm,
            "handle": obj.author.handle,
            "display_name": obj.author.display_name,
        }


class SourceList(RoleListAPIView[Source]):
    """Connected sources with their last run."""

    roles = DEVREL
    serializer_class = SourceOutput
    queryset = Source.objects.all()


class SourceDetail(RoleAPIView, generics.RetrieveAPIView[Source]):
    roles = DEVREL
    serializer_class = SourceOutput
    queryset = Source.objects.all()


class RunList(RoleListAPIView[SyncRun]):
    """Sync runs, newest first; filter with ?source=<id>&status=<status>."""

    roles = DEVREL
    serializer_class = RunOutput

    def get_queryset(self) -> QuerySet[SyncRun]:
        rows = SyncRun.objects.all()
        params = self.request.query_params
        if params.get("source"):
            rows = rows.filter(source_id=_int(params["source"], "source"))
        if params.get("status"):
            rows = rows.filter(status=params["status"])
        return rows


class MessageList(RoleListAPIView[Message]):
    """Messages, newest first; filter with ?source=<id>&kind=<kind>&channel=<id>&since=<ISO datetime>&q=<text>."""

    roles = DEVREL
    serializer_class = MessageOutput

    def get_queryset(self) -> QuerySet[Message]:
        params = self.request.query_params
        source = Source.objects.filter(pk=_int(params["source"], "source")).first() if params.get("source") else None
        if params.get("source") and source is None:
            return Message.objects.none()
        since = parse_datetime(params["since"]) if params.get("since") else None
        if params.get("since") and since is None:
            raise ValidationError({"since": "expected an ISO 8601 date-time"})
        return selectors.messages_filtered(
            q=params.get("q", ""),
            source=source,
            kind=params.get("kind", ""),
            channel_id=_int(params["channel"], "channel") if params.get("channel") else None,
            since=since,
        )


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValidationError({name: "expected an integer id"}) from None
