"""Reports API: list and read published reports (drafts too for DevRel) with their items."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.utils.decorators import method_decorator
from rest_framework import generics, serializers
from rest_framework.permissions import IsAuthenticated

from townsquare.core import roles
from townsquare.reports import selectors
from townsquare.reports.models import Report, ReportItem
from townsquare.reports.services import absolute


class ItemOutput(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = ReportItem
        fields = [
            "position",
            "theme_id",
            "title",
            "summary",
            "key_phrases",
            "message_count",
            "people_count",
            "people_last_week",
            "customer_count",
            "customers",
            "revenue_total",
            "channels",
            "trend",
            "score",
            "note",
            "quotes",
            "threads",
            "issue_url",
            "addressed_in",
            "url",
        ]

    def get_url(self, item: ReportItem) -> str:
        return absolute(item.get_absolute_url())


class ReportOutput(serializers.ModelSerializer):
    department = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    iso_week = serializers.CharField()
    supersedes = serializers.PrimaryKeyRelatedField(read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = [
            "id",
            "week_start",
            "iso_week",
            "department",
            "revision",
            "supersedes",
            "status",
            "intro",
            "correction_note",
            "published_at",
            "url",
        ]

    def get_url(self, report: Report) -> str:
        return absolute(report.get_absolute_url())


class ReportDetailOutput(ReportOutput):
    items = ItemOutput(many=True, read_only=True)

    class Meta(ReportOutput.Meta):
        fields = [*ReportOutput.Meta.fields, "items"]


@method_decorator(login_not_required, name="dispatch")
class ReportList(generics.ListAPIView):
    """Reports, newest week first. Filters: ?department=<slug>|all, ?q=<text in themes and notes>."""

    serializer_class = ReportOutput
    permission_classes = [IsAuthenticated, roles.HasRole]
    allowed_roles = roles.READERS

    def get_queryset(self) -> Any:
        params = self.request.query_params
        return selectors.report_archive(
            user=self.request.user, department=params.get("department", ""), query=params.get("q", "").strip()
        )


@method_decorator(login_not_required, name="dispatch")
class ReportDetail(generics.RetrieveAPIView):
    """One report with its immutable items (quotes, customers, source threads)."""

    serializer_class = ReportDetailOutput
    permission_classes = [IsAuthenticated, roles.HasRole]
    allowed_roles = roles.READERS

    def get_queryset(self) -> Any:
        return selectors.reports_visible_to(user=self.request.user).prefetch_related("items")
