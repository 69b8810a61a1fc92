"""Value API: the same stored figures as the Health and Channels pages, as JSON."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request as ApiRequest
from rest_framework.response import Response

from townsquare.core.api import RoleAPIView
from townsquare.core.roles import LEADS, VALUE_READERS
from townsquare.metrics.channels import WINDOWS, scenario_run
from townsquare.metrics.models import ChannelMap, ConsolidationScenario
from townsquare.metrics.selectors import health as selectors
from townsquare.metrics.services import health as services
from townsquare.sources.models import Source


class SnapshotOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    finished_at = serializers.DateTimeField(allow_null=True)
    seconds = serializers.FloatField(allow_null=True)
    messages = serializers.IntegerField()
    people = serializers.IntegerField()
    first_month = serializers.CharField()
    last_month = serializers.CharField()


class HealthOutput(serializers.Serializer):
    snapshot = SnapshotOutput(allow_null=True)
    source_id = serializers.IntegerField(allow_null=True, help_text="The source, or null for all channels.")
    figures = serializers.DictField(
        allow_null=True,
        help_text="months, contributors, new_contributors, inactive_contributors, messages, retention, ttfr, "
        "ttfr_overall, unanswered (message ids), quarters, caf_*, elephant, organizations, core/regular/casual.",
    )


class ScenarioOutput(serializers.Serializer):
    retire = serializers.ListField(child=serializers.IntegerField())
    destination = serializers.IntegerField(allow_null=True)
    people = serializers.IntegerField()
    affected = serializers.IntegerField()
    already_there = serializers.IntegerField()
    must_move = serializers.IntegerField()
    only_retired = serializers.IntegerField()
    channels_before_mean = serializers.FloatField()
    channels_after_mean = serializers.FloatField()
    channels_before_median = serializers.FloatField()
    channels_after_median = serializers.FloatField()
    customers_affected = serializers.DictField(child=serializers.IntegerField(), help_text="account id -> people")
    customers_at_risk = serializers.DictField(child=serializers.IntegerField(), help_text="account id -> people")


class ChannelsOutput(serializers.Serializer):
    snapshot = SnapshotOutput(allow_null=True)
    window = serializers.CharField()
    map = serializers.DictField(allow_null=True, help_text="sources (ids), channels, overlap matrix, combos.")
    scenario = ScenarioOutput(allow_null=True)


class ScenarioSavedOutput(serializers.ModelSerializer):
    retire: Any = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = ConsolidationScenario
        fields = ["id", "name", "note", "retire", "destination", "window", "created_at", "url"]


class ScenarioInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    retire: Any = serializers.PrimaryKeyRelatedField(many=True, queryset=Source.objects.all())
    destination = serializers.PrimaryKeyRelatedField(
        queryset=Source.objects.all(), allow_null=True, required=False, default=None
    )
    window = serializers.ChoiceField(choices=ChannelMap.Window.choices, default="12m")


def _snapshot() -> Any:
    return selectors.snapshot_latest()


class HealthApi(RoleAPIView):
    """Community health figures of the latest snapshot, for all channels or one source."""

    roles = VALUE_READERS

    @extend_schema(
        parameters=[OpenApiParameter("source", int, description="A source id; omit for all channels.")],
        responses=HealthOutput,
        summary="Community health",
    )
    def get(self, request: ApiRequest) -> Response:
        source = None
        if request.query_params.get("source"):
            try:
                source = get_object_or_404(Source, pk=int(request.query_params["source"]))
            except ValueError as exc:
                raise serializers.ValidationError({"source": ["not an id"]}) from exc
        snapshot = _snapshot()
        figures = selectors.health_figures_for(snapshot=snapshot, source=source) if snapshot else None
        return Response(
            {
                "snapshot": SnapshotOutput(snapshot).data if snapshot else None,
                "source_id": source.pk if source else None,
                "figures": figures,
            }
        )


class ChannelsApi(RoleAPIView):
    """The channel map of a window and, given ``retire`` (and ``to``), a consolidation scenario."""

    roles = VALUE_READERS

    @extend_schema(
        parameters=[
            OpenApiParameter("window", str, enum=list(WINDOWS), description="Default 12m."),
            OpenApiParameter("retire", int, many=True, description="Source ids to retire."),
            OpenApiParameter("to", str, description="Destination source id, or 'new' (default)."),
        ],
        responses=ChannelsOutput,
        summary="Channel map and consolidation scenario",
    )
    def get(self, request: ApiRequest) -> Response:
        window = request.query_params.get("window") or "12m"
        if window not in WINDOWS:
            raise serializers.ValidationError({"window": [f"one of {', '.join(WINDOWS)}"]})
        try:
            retire = [int(v) for v in request.query_params.getlist("retire")]
            to = request.query_params.get("to") or "new"
            destination = None if to == "new" else int(to)
        except ValueError as exc:
            raise serializers.ValidationError({"retire": ["source ids are integers"]}) from exc
        if destination is not None and destination in retire:
            raise serializers.ValidationError({"to": ["the destination cannot be a retired channel"]})
        snapshot = _snapshot()
        data = selectors.channel_map_for(snapshot=snapshot, window=window) if snapshot else None
        result = None
        if data is not None and (retire or "to" in request.query_params):
            result = ScenarioOutput(scenario_run(data, retire=retire, destination=destination)).data
        return Response(
            {
                "snapshot": SnapshotOutput(snapshot).data if snapshot else None,
                "window": window,
                "map": data,
                "scenario": result,
            }
        )


class ScenarioListApi(RoleAPIView):
    """Saved consolidation scenarios; the DevRel lead saves new ones."""

    roles = LEADS
    read_roles = VALUE_READERS

    @extend_schema(responses=ScenarioSavedOutput(many=True), summary="Saved scenarios")
    def get(self, request: ApiRequest) -> Response:
        return Response(ScenarioSavedOutput(selectors.scenarios_recent(limit=200), many=True).data)

    @extend_schema(request=ScenarioInput, responses={201: ScenarioSavedOutput}, summary="Save a scenario")
    def post(self, request: ApiRequest) -> Response:
        given = ScenarioInput(data=request.data)
        given.is_valid(raise_exception=True)
        saved = services.scenario_save(by=self.user, **given.validated_data)  # errors become 400s
        return Response(ScenarioSavedOutput(saved).data, status=status.HTTP_201_CREATED)


class RecomputeApi(RoleAPIView):
    """Queue a recompute of health and the channel map (unless one is already queued or running)."""

    roles = LEADS

    @extend_schema(request=None, responses={202: SnapshotOutput}, summary="Recompute health")
    def post(self, request: ApiRequest) -> Response:
        snapshot, _ = services.health_recompute_request(by=self.user)
        return Response(SnapshotOutput(snapshot).data, status=status.HTTP_202_ACCEPTED)
