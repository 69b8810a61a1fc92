from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.utils.dateparse import parse_datetime
from django.utils.decorators import method_decorator
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated

from townsquare.core import roles
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
    source = serializers.CharField(source="source.name")
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


class _Base:
    permission_classes = [IsAuthenticated, roles.HasRole]
    allowed_roles = roles.DEVREL


@method_decorator(login_not_required, name="dispatch")
class SourceList(_Base, generics.ListAPIView):
    """Connected sources with their last run."""

    serializer_class = SourceOutput
    queryset = Source.objects.all()


@method_decorator(login_not_required, name="dispatch")
class SourceDetail(_Base, generics.RetrieveAPIView):
    serializer_class = SourceOutput
    queryset = Source.objects.all()


@method_decorator(login_not_required, name="dispatch")
class RunList(_Base, generics.ListAPIView):
    """Sync runs, newest first; filter with ?source=<id>&status=<status>."""

    serializer_class = RunOutput

    def get_queryset(self):  # type: ignore[no-untyped-def]
        rows = SyncRun.objects.all()
        params = self.request.query_params
        if params.get("source"):
            rows = rows.filter(source_id=_int(params["source"], "source"))
        if params.get("status"):
            rows = rows.filter(status=params["status"])
        return rows


@method_decorator(login_not_required, name="dispatch")
class MessageList(_Base, generics.ListAPIView):
    """Messages, newest first; filter with ?source=<id>&kind=<kind>&channel=<id>&since=<ISO datetime>&q=<text>."""

    serializer_class = MessageOutput

    def get_queryset(self):  # type: ignore[no-untyped-def]
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
