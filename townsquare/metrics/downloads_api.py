"""Downloads API: the same figures as the page (stored months only), as JSON."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request as ApiRequest
from rest_framework.response import Response

from townsquare.core.api import RoleAPIView
from townsquare.core.roles import VALUE_READERS
from townsquare.metrics.selectors import downloads as selectors


class MonthFigureOutput(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM, a UTC calendar month.")
    downloads = serializers.IntegerField(allow_null=True, help_text="Null is a gap (no figure), never zero.")
    complete = serializers.BooleanField(help_text="False for the month in progress and months with missing days.")
    note = serializers.CharField(allow_blank=True)


class PackageSeriesOutput(serializers.Serializer):
    id = serializers.IntegerField()
    registry = serializers.CharField()
    name = serializers.CharField()
    # A field named like a Field attribute: DRF's metaclass takes it out of the class, stubs can't know.
    label = serializers.CharField(allow_blank=True)  # type: ignore[assignment]
    series_label = serializers.CharField(help_text="What the monthly figure is.")
    cumulative = serializers.BooleanField(help_text="Months are increases of an all-time total.")
    counting_since = serializers.DateField(allow_null=True)
    demo = serializers.BooleanField()
    months = MonthFigureOutput(many=True)


class TotalOutput(serializers.Serializer):
    month = serializers.CharField()
    downloads = serializers.IntegerField(allow_null=True)
    complete = serializers.BooleanField()
    missing = serializers.ListField(child=serializers.CharField(), help_text="Packages without a figure this month.")


class ActivityOutput(serializers.Serializer):
    month = serializers.CharField()
    messages = serializers.IntegerField(allow_null=True)
    active_members = serializers.IntegerField(allow_null=True)


class FetchErrorOutput(serializers.Serializer):
    package = serializers.CharField(source="package_name")
    reason = serializers.CharField()
    permanent = serializers.BooleanField()


class FetchRunOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    trigger = serializers.CharField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    packages_fetched = serializers.IntegerField()
    packages_failed = serializers.IntegerField()
    errors = FetchErrorOutput(many=True)  # type: ignore[assignment]  # as for ``label`` above


class DownloadsOutput(serializers.Serializer):
    months = serializers.ListField(child=serializers.CharField())
    packages = PackageSeriesOutput(many=True)
    total = TotalOutput(many=True)
    community = ActivityOutput(many=True)
    last_fetch = FetchRunOutput(allow_null=True)


class DownloadsApi(RoleAPIView):
    """Downloads per package and in total per calendar month, beside community activity, and the last fetch."""

    roles = VALUE_READERS

    @extend_schema(
        responses=DownloadsOutput,
        parameters=[OpenApiParameter("months", int, description=f"Months back, 1 to {selectors.MAX_MONTHS}.")],
        summary="Downloads month by month",
    )
    def get(self, request: ApiRequest) -> Response:
        text = request.query_params.get("months", "")
        if text and not text.isdigit():
            raise serializers.ValidationError({"months": ["a whole number of months"]})
        o = selectors.downloads_overview(months=int(text) if text else selectors.DEFAULT_MONTHS)
        run = o.last_run
        data = {
            "months": [f"{m:%Y-%m}" for m in o.months],
            "packages": [
                {
                    "id": s.package.pk,
                    "registry": s.package.registry,
                    "name": s.package.name,
                    "label": s.package.label,
                    "series_label": s.package.series_label,
                    "cumulative": s.package.is_cumulative,
                    "counting_since": s.package.counting_since,
                    "demo": s.package.is_demo,
                    "months": [
                        {"month": f"{f.month:%Y-%m}", "downloads": f.downloads, "complete": f.complete, "note": f.note}
                        for f in s.figures
                        if f.tracked
                    ],
                }
                for s in o.series
            ],
            "total": [
                {"month": f"{t.month:%Y-%m}", "downloads": t.downloads, "complete": t.complete, "missing": t.missing}
                for t in o.totals
            ],
            "community": [
                {"month": f"{a.month:%Y-%m}", "messages": a.messages, "active_members": a.active_members}
                for a in o.activity
            ],
            "last_fetch": None
            if run is None
            else {
                "id": run.pk,
                "status": run.status,
                "trigger": run.trigger,
                "created_at": run.created_at,
                "started_at": run.started_at,
                "finished_at": run.finished_at,
                "packages_fetched": run.packages_fetched,
                "packages_failed": run.packages_failed,
                "errors": list(o.last_errors),
            },
        }
        return Response(DownloadsOutput(data).data)
