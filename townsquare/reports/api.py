"""Reports API: list and read published reports (drafts too for DevRel) with their items."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import generics, serializers

from townsquare.core.api import RoleAPIView, RoleListAPIView
from townsquare.core.privacy import person_label
from townsquare.core.roles import DEVREL, READERS, has_role
from townsquare.people.models import Team
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

    def to_representation(self, instance: ReportItem) -> dict[str, Any]:
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not has_role(request.user, DEVREL):
            # Quote authors stored before names were kept apart from addresses: addresses for DevRel only.
            data["quotes"] = [
                {**q, "author": person_label(q.get("author"), show_addresses=False)} for q in data["quotes"]
            ]
        return data


class ReportOutput(serializers.ModelSerializer):
    department: serializers.SlugRelatedField[Team] = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    iso_week = serializers.CharField()
    supersedes: serializers.PrimaryKeyRelatedField[Report] = serializers.PrimaryKeyRelatedField(read_only=True)
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


class ReportList(RoleListAPIView[Report]):
    """Reports, newest week first. Filters: ?department=<slug>|all, ?q=<text in themes and notes>."""

    serializer_class = ReportOutput
    roles = READERS

    def get_queryset(self) -> QuerySet[Report]:
        params = self.request.query_params
        return selectors.report_archive(
            user=self.user, department=params.get("department", ""), query=params.get("q", "").strip()
        )


class ReportDetail(RoleAPIView, generics.RetrieveAPIView[Report]):
    """One report with its immutable items (quotes, customers, source threads)."""

    serializer_class = ReportDetailOutput
    roles = READERS

    def get_queryset(self) -> QuerySet[Report]:
        return selectors.reports_visible_to(user=self.user).prefetch_related("items")
