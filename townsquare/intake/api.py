"""Requests API: the same services as the pages, with Input/Output serializers per view."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request as ApiRequest
from rest_framework.response import Response

from townsquare.core.api import RoleAPIView
from townsquare.core.errors import TownsquareError
from townsquare.core.quarters import Quarter, current_quarter, quarter_parse
from townsquare.core.roles import ALL, DEVREL, LEADS, READERS, STAKEHOLDERS, VALUE_READERS, Role
from townsquare.intake import selectors, services
from townsquare.intake.fields import answer_to_json, form_field_for
from townsquare.intake.models import LedgerEntry, Request, RequestType
from townsquare.people.models import Team

FILERS = STAKEHOLDERS | {Role.ADMIN}
CANCELLERS = STAKEHOLDERS | LEADS


def _bad(exc: TownsquareError) -> Response:
    field = (
        str(exc.record)
        if exc.record in ("title", "team", "quarter", "type", "override", "budget", "points")
        else "detail"
    )
    if field == "detail":
        return Response({"detail": exc.message}, status=status.HTTP_400_BAD_REQUEST)
    return Response({field: [exc.message]}, status=status.HTTP_400_BAD_REQUEST)


def _quarter_param(request: ApiRequest) -> Quarter:
    text = request.query_params.get("quarter", "")
    if not text:
        return current_quarter()
    try:
        return quarter_parse(text)
    except ValueError as exc:
        raise serializers.ValidationError({"quarter": [str(exc)]}) from exc


def _request_for(user: User, pk: int) -> Request:
    found = selectors.requests_visible_to(user=user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


# ---------------------------------------------------------------- types


class RequestTypeOutput(serializers.ModelSerializer):
    mentoring_alternative: serializers.SlugRelatedField[RequestType] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )

    class Meta:
        model = RequestType
        fields = ["id", "slug", "name", "description", "points", "mode", "fields", "mentoring_alternative", "active"]


class RequestTypeListApi(RoleAPIView):
    """Active request types with their points, mode and form fields."""

    roles = ALL

    @extend_schema(responses=RequestTypeOutput(many=True), summary="Request types")
    def get(self, request: ApiRequest) -> Response:
        return Response(RequestTypeOutput(selectors.request_types_active(), many=True).data)


# ---------------------------------------------------------------- requests


class RequestOutput(serializers.ModelSerializer):
    team: serializers.SlugRelatedField[Team] = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    type: serializers.SlugRelatedField[RequestType] = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    requester = serializers.CharField(source="requester.username", read_only=True)
    quarter = serializers.CharField(source="budget.quarter", read_only=True)
    over_budget_override = serializers.BooleanField(source="was_overridden", read_only=True)

    class Meta:
        model = Request
        fields = [
            "id",
            "title",
            "team",
            "type",
            "requester",
            "quarter",
            "status",
            "points",
            "priority",
            "details",
            "desired_date",
            "mentoring_candidate",
            "mentoring_plan",
            "over_budget_override",
            "uniquely_devrel",
            "team_could_with_guidance",
            "triage_note",
            "created_at",
            "updated_at",
        ]


class RequestFileInput(serializers.Serializer):
    type = serializers.SlugRelatedField(slug_field="slug", queryset=RequestType.objects.all())
    team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all(), required=False)
    title = serializers.CharField(max_length=200)
    quarter = serializers.CharField(required=False)
    desired_date = serializers.DateField(required=False, allow_null=True)
    details = serializers.DictField(required=False, default=dict)
    override = serializers.BooleanField(required=False, default=False)

    def validate_quarter(self, value: str) -> Quarter:
        try:
            return quarter_parse(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        """Check ``details`` against the type's own fields, with the same rules as the web form."""
        request_type: RequestType = data["type"]
        given, clean, errors = data.get("details") or {}, {}, {}
        known = {spec["name"] for spec in request_type.fields or []}
        for name in set(given) - known:
            errors[name] = ["not a field of this request type"]
        for spec in request_type.fields or []:
            field = form_field_for(spec)
            try:
                value = field.clean(
                    field.to_python(given.get(spec["name"]))
                    if spec["kind"] != "checkbox"
                    else given.get(spec["name"], False)
                )
            except ValidationError as exc:  # reported per field
                errors[spec["name"]] = list(getattr(exc, "messages", [str(exc)]))
                continue
            if value not in (None, ""):
                clean[spec["name"]] = answer_to_json(value)
        if errors:
            raise serializers.ValidationError({"details": errors})
        data["details"] = clean
        return data


class RequestListApi(RoleAPIView):
    """List the requests you may see (filters: status, team, quarter); stakeholders file new ones with POST."""

    roles = FILERS
    read_roles = READERS

    @extend_schema(
        responses=RequestOutput(many=True),
        summary="Requests",
        parameters=[OpenApiParameter("status", str), OpenApiParameter("team", str), OpenApiParameter("quarter", str)],
    )
    def get(self, request: ApiRequest) -> Response:
        rows = selectors.requests_visible_to(user=self.user).order_by("-created_at")
        params = request.query_params
        if params.get("status"):
            rows = rows.filter(status=params["status"])
        if params.get("team"):
            rows = rows.filter(team__slug=params["team"])
        if params.get("quarter"):
            rows = rows.filter(budget__quarter=_quarter_param(request).key)
        from rest_framework.pagination import LimitOffsetPagination

        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(RequestOutput(page, many=True).data)

    @extend_schema(request=RequestFileInput, responses={201: RequestOutput}, summary="File a request")
    def post(self, request: ApiRequest) -> Response:
        serializer = RequestFileInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        teams = list(selectors.filing_teams_for(self.user))
        team = data.get("team") or (teams[0] if len(teams) == 1 else None)
        if team is None:
            return Response({"team": ["say which team files this request"]}, status=status.HTTP_400_BAD_REQUEST)
        try:
            created = services.request_file(
                team=team,
                requester=self.user,
                request_type=data["type"],
                title=data["title"],
                quarter=data.get("quarter") or current_quarter(),
                details=data["details"],
                desired_date=data.get("desired_date"),
                override=data["override"],
            )
        except TownsquareError as exc:
            return _bad(exc)
        return Response(RequestOutput(created).data, status=status.HTTP_201_CREATED)


class RequestDetailApi(RoleAPIView):
    roles = READERS

    @extend_schema(responses=RequestOutput, summary="One request")
    def get(self, request: ApiRequest, pk: int) -> Response:
        return Response(RequestOutput(_request_for(self.user, pk)).data)


class TriageInput(serializers.Serializer):
    uniquely_devrel = serializers.BooleanField(allow_null=True)
    team_could_with_guidance = serializers.BooleanField(allow_null=True)
    decision = serializers.ChoiceField(choices=["triage", "accept", "decline", "mentoring"], default="triage")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    plan = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class RequestTriageApi(RoleAPIView):
    """DevRel records the triage answers and, optionally, the decision."""

    roles = DEVREL

    @extend_schema(request=TriageInput, responses=RequestOutput, summary="Triage a request")
    def post(self, request: ApiRequest, pk: int) -> Response:
        from django.db import transaction

        obj = _request_for(self.user, pk)
        serializer = TriageInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            with transaction.atomic():
                services.request_triage(
                    request=obj,
                    by=self.user,
                    uniquely_devrel=data["uniquely_devrel"],
                    team_could_with_guidance=data["team_could_with_guidance"],
                    note=data["note"],
                    quiet=data["decision"] != "triage",
                )
                if data["decision"] == "accept":
                    services.request_accept(request=obj, by=self.user, note=data["note"])
                elif data["decision"] == "decline":
                    services.request_decline(request=obj, by=self.user, note=data["note"])
                elif data["decision"] == "mentoring":
                    services.request_offer_mentoring(request=obj, by=self.user, plan=data["plan"])
        except TownsquareError as exc:
            return _bad(exc)
        return Response(RequestOutput(obj).data)


class StatusInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=[Request.Status.IN_PROGRESS, Request.Status.DONE])


class RequestStatusApi(RoleAPIView):
    """DevRel moves accepted work along: in_progress, then done (done is idempotent)."""

    roles = DEVREL

    @extend_schema(request=StatusInput, responses=RequestOutput, summary="Start or finish a request")
    def post(self, request: ApiRequest, pk: int) -> Response:
        obj = _request_for(self.user, pk)
        serializer = StatusInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        action = (
            services.request_start
            if serializer.validated_data["status"] == Request.Status.IN_PROGRESS
            else services.request_mark_done
        )
        try:
            action(request=obj, by=self.user)
        except TownsquareError as exc:
            return _bad(exc)
        return Response(RequestOutput(obj).data)


class RequestCancelApi(RoleAPIView):
    """The requester or their team lead withdraws a request; its points come back."""

    roles = CANCELLERS

    @extend_schema(request=None, responses=RequestOutput, summary="Cancel a request")
    def post(self, request: ApiRequest, pk: int) -> Response:
        obj = _request_for(self.user, pk)
        try:
            services.request_cancel(request=obj, by=self.user)
        except TownsquareError as exc:
            return _bad(exc)
        return Response(RequestOutput(obj).data)


class ReorderInput(serializers.Serializer):
    order = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=False, max_length=500)


class TeamReorderApi(RoleAPIView):
    """Set the team's priority order: the ids given come first, in that order."""

    roles = FILERS

    @extend_schema(request=ReorderInput, responses=RequestOutput(many=True), summary="Rank a team's open requests")
    def post(self, request: ApiRequest, slug: str) -> Response:
        team = get_object_or_404(selectors.stakeholder_teams(), slug=slug)
        if not selectors.team_visible_to(user=self.user, team=team):
            raise Http404
        serializer = ReorderInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            ranked = services.requests_reorder(team=team, ordered_ids=serializer.validated_data["order"], by=self.user)
        except TownsquareError as exc:
            return _bad(exc)
        return Response(RequestOutput(ranked, many=True).data)


# ---------------------------------------------------------------- budgets and ledger


class BalanceOutput(serializers.Serializer):
    team = serializers.CharField()
    quarter = serializers.CharField()
    budget_id = serializers.IntegerField()
    allocated = serializers.IntegerField()
    adjusted = serializers.IntegerField()
    allowance = serializers.IntegerField()
    reserved = serializers.IntegerField()
    spent = serializers.IntegerField()
    available = serializers.IntegerField()
    closed = serializers.BooleanField()


def _balance_row(budget: Any, balance: selectors.Balance) -> dict[str, Any]:
    return {
        "team": budget.team.slug,
        "quarter": budget.quarter,
        "budget_id": budget.pk,
        "allocated": balance.allocated,
        "adjusted": balance.adjusted,
        "allowance": balance.allowance,
        "reserved": balance.reserved,
        "spent": balance.spent,
        "available": balance.available,
        "closed": budget.is_closed,
    }


class BudgetListApi(RoleAPIView):
    """Budgets and balances for a quarter (default: the current one); stakeholders see their own teams."""

    roles = READERS

    @extend_schema(
        responses=BalanceOutput(many=True),
        parameters=[OpenApiParameter("quarter", str)],
        summary="Budgets and balances",
    )
    def get(self, request: ApiRequest) -> Response:
        teams = None if selectors.is_devrel_reader(self.user) else selectors.teams_of(self.user)
        rows = selectors.budgets_with_balances(quarter=_quarter_param(request), teams=teams)
        return Response(BalanceOutput([_balance_row(b, bal) for b, bal in rows], many=True).data)


class LedgerEntryOutput(serializers.ModelSerializer):
    by = serializers.CharField(source="by.username", default=None, read_only=True)
    effect = serializers.IntegerField(read_only=True)

    class Meta:
        model = LedgerEntry
        fields = ["id", "kind", "request", "allowance", "reserved", "spent", "effect", "reason", "by", "created_at"]


class BudgetLedgerApi(RoleAPIView):
    roles = READERS

    @extend_schema(responses=LedgerEntryOutput(many=True), summary="A budget's ledger, oldest first")
    def get(self, request: ApiRequest, pk: int) -> Response:
        from townsquare.intake.models import Budget

        budget = get_object_or_404(Budget.objects.select_related("team"), pk=pk)
        if not selectors.team_visible_to(user=self.user, team=budget.team):
            raise Http404
        return Response(LedgerEntryOutput(selectors.ledger_for_budget(budget=budget), many=True).data)


class TeamSummaryOutput(serializers.Serializer):
    team = serializers.CharField()
    allowance = serializers.IntegerField(allow_null=True)
    reserved = serializers.IntegerField(allow_null=True)
    spent = serializers.IntegerField(allow_null=True)
    available = serializers.IntegerField(allow_null=True)
    service = serializers.IntegerField()
    mentoring = serializers.IntegerField()
    requests = serializers.IntegerField()
    by_type = serializers.DictField(child=serializers.IntegerField())


class SummaryOutput(serializers.Serializer):
    quarter = serializers.CharField()
    # A field named like Field.label, which the stubs type as the field's own label text.
    label = serializers.CharField()  # type: ignore[assignment]
    allowance = serializers.IntegerField()
    reserved = serializers.IntegerField()
    spent = serializers.IntegerField()
    service = serializers.IntegerField()
    mentoring = serializers.IntegerField()
    teams = TeamSummaryOutput(many=True)


class QuarterSummaryApi(RoleAPIView):
    roles = VALUE_READERS

    @extend_schema(
        responses=SummaryOutput,
        parameters=[OpenApiParameter("quarter", str)],
        summary="Points per team and type, service vs mentoring",
    )
    def get(self, request: ApiRequest) -> Response:
        s = selectors.quarter_summary(quarter=_quarter_param(request))
        slugs = {t.pk: t.slug for t in s.types}
        data = {
            "quarter": s.quarter.key,
            "label": s.quarter.label,
            "allowance": s.allowance,
            "reserved": s.reserved,
            "spent": s.spent,
            "service": s.service,
            "mentoring": s.mentoring,
            "teams": [
                {
                    "team": t.team.slug,
                    "allowance": t.balance.allowance if t.balance else None,
                    "reserved": t.balance.reserved if t.balance else None,
                    "spent": t.balance.spent if t.balance else None,
                    "available": t.balance.available if t.balance else None,
                    "service": t.service,
                    "mentoring": t.mentoring,
                    "requests": t.requests,
                    "by_type": {slugs[k]: v for k, v in t.by_type.items() if k in slugs},
                }
                for t in s.teams
            ],
        }
        return Response(SummaryOutput(data).data)
