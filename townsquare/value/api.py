"""Value report API: the quarterly reports, each with its sections and goals, and its figures as a flat list."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from townsquare.core.api import RoleAPIView, RoleListAPIView
from townsquare.core.quarters import quarter_parse
from townsquare.core.roles import DEVREL, VALUE_READERS, has_role
from townsquare.value import sections, selectors
from townsquare.value.figures import FIGURES
from townsquare.value.models import QuarterReport
from townsquare.value.services import absolute


class QuarterReportOutput(serializers.ModelSerializer):
    quarter_label = serializers.CharField()
    supersedes: serializers.PrimaryKeyRelatedField[QuarterReport] = serializers.PrimaryKeyRelatedField(read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = QuarterReport
        fields = ["id", "quarter", "quarter_label", "revision", "supersedes", "status", "published_at", "url"]

    def get_url(self, report: QuarterReport) -> str:
        return absolute(report.get_absolute_url())


class QuarterReportDetailOutput(QuarterReportOutput):
    class Meta(QuarterReportOutput.Meta):
        fields = [
            *QuarterReportOutput.Meta.fields,
            "narrative",
            "notes",
            "hidden",
            "correction_note",
            "built_at",
            "data",
        ]


class FigureOutput(serializers.Serializer):
    key = serializers.CharField()
    section = serializers.CharField()
    name = serializers.CharField(source="label")
    unit = serializers.CharField()
    value = serializers.FloatField(allow_null=True)
    previous = serializers.FloatField(allow_null=True)
    note = serializers.CharField()
    url = serializers.CharField()


class RegistryOutput(serializers.Serializer):
    key = serializers.CharField()
    section = serializers.CharField()
    name = serializers.CharField(source="label")
    unit = serializers.CharField()


def _report(view: RoleAPIView, key: str) -> QuarterReport:
    try:
        quarter = quarter_parse(key)
    except ValueError:
        raise Http404("no such quarter") from None
    rows = selectors.reports_visible_to(devrel=has_role(view.user, DEVREL)).filter(quarter=quarter.key)
    report = rows.order_by("-revision").first()
    if report is None:
        raise Http404(f"no report for {quarter.label}")
    return report


class QuarterList(RoleListAPIView[QuarterReport]):
    """Quarterly value reports, newest first (published ones; DevRel also sees drafts)."""

    serializer_class = QuarterReportOutput
    roles = VALUE_READERS

    def get_queryset(self) -> QuerySet[QuarterReport]:
        return selectors.reports_visible_to(devrel=has_role(self.user, DEVREL)).order_by("-quarter", "-revision")


class QuarterDetail(RoleAPIView):
    """The quarter's latest report revision: narrative, notes, and every section and goal as built."""

    roles = VALUE_READERS

    @extend_schema(responses=QuarterReportDetailOutput)
    def get(self, request: Request, key: str) -> Response:
        return Response(QuarterReportDetailOutput(_report(self, key)).data)


class QuarterFigures(RoleAPIView):
    """The quarter's figures as a flat list, beside the previous quarter's, each with the page it came from."""

    roles = VALUE_READERS

    @extend_schema(responses=FigureOutput(many=True))
    def get(self, request: Request, key: str) -> Response:
        report = _report(self, key)
        previous = report.data.get("previous", {}).get("sections", {})
        rows = []
        built = report.data.get("sections", {})
        for section_key in [s.key for s in sections.ordered() if s.key in built]:
            if section_key in report.hidden:
                continue
            for figure_key, figure in sections.figure_items(built[section_key]):
                before = previous.get(section_key, {}).get("figures", {}).get(figure_key, {})
                rows.append(
                    {
                        "key": figure_key,
                        "section": section_key,
                        "label": figure["label"],
                        "unit": figure["unit"],
                        "value": figure["value"],
                        "previous": before.get("value"),
                        "note": figure.get("note", ""),
                        "url": absolute(figure["link"]),
                    }
                )
        return Response(FigureOutput(rows, many=True).data)


class FigureRegistry(RoleAPIView):
    """The figures a quarterly goal can be measured by."""

    roles = VALUE_READERS

    @extend_schema(responses=RegistryOutput(many=True), operation_id="v1_value_figure_registry")
    def get(self, request: Request) -> Response:
        rows = [{"key": f.key, "section": f.section, "label": f.label, "unit": f.unit} for f in FIGURES.values()]
        return Response(RegistryOutput(rows, many=True).data)
