from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from townsquare.core.api import RoleAPIView, RoleListAPIView
from townsquare.core.errors import TownsquareError
from townsquare.core.roles import DEVREL, READERS
from townsquare.people import selectors, services
from townsquare.people.models import Account, Identity, Member, MergeSuggestion, Organization, OrganizationDomain


class IdentityOutput(serializers.ModelSerializer):
    class Meta:
        model = Identity
        fields = ["id", "realm", "external_id", "handle", "display_name", "email", "email_verified", "is_bot"]


class MemberOutput(serializers.ModelSerializer):
    organization = serializers.CharField(source="organization.name", default=None)
    customer_tier = serializers.CharField(source="organization.account.tier", default=None)
    team = serializers.CharField(source="team.name", default=None)
    identities = IdentityOutput(many=True, read_only=True)

    class Meta:
        model = Member
        fields = [
            "id",
            "display_name",
            "primary_email",
            "organization",
            "customer_tier",
            "is_staff",
            "team",
            "is_bot",
            "first_seen",
            "last_seen",
            "identities",
        ]


class OrganizationOutput(serializers.ModelSerializer):
    domains: serializers.SlugRelatedField[OrganizationDomain] = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="domain"
    )
    account = serializers.CharField(source="account.crm_id", default=None)
    member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Organization
        fields = ["id", "name", "website", "domains", "account", "member_count"]


class AccountOutput(serializers.ModelSerializer):
    organization: serializers.PrimaryKeyRelatedField[Organization] = serializers.PrimaryKeyRelatedField(read_only=True)
    member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Account
        fields = [
            "id",
            "crm_id",
            "name",
            "tier",
            "annual_revenue",
            "owner",
            "organization",
            "member_count",
            "imported_at",
        ]


class SuggestionOutput(serializers.ModelSerializer):
    class Meta:
        model = MergeSuggestion
        fields = ["id", "member_a", "member_b", "reason", "status", "decided_at", "created_at"]


def _members() -> QuerySet[Member]:
    return Member.objects.select_related("organization__account", "team").prefetch_related(
        Prefetch("identities", queryset=Identity.objects.order_by("realm", "handle"))
    )


class MemberList(RoleListAPIView[Member]):
    """Members with their identities; ``?q=`` searches names, handles, emails and organisations,
    ``?organization=<id>``, ``?tier=<tier>|customer``, ``?staff=staff|community``, ``?channel=<realm kind>``."""

    serializer_class = MemberOutput
    roles = DEVREL

    def get_queryset(self) -> QuerySet[Member]:
        params = self.request.query_params
        organization = params.get("organization", "")
        filters = selectors.DirectoryFilters(
            q=params.get("q", ""),
            organization=int(organization) if organization.isdigit() else None,
            tier=params.get("tier", ""),
            staff=params.get("staff", ""),
            channel=params.get("channel", ""),
        )
        ids = selectors.member_directory(filters=filters).values("pk")
        return _members().filter(pk__in=ids).order_by("display_name", "pk")


class MemberDetail(RoleAPIView, generics.RetrieveAPIView[Member]):
    serializer_class = MemberOutput
    roles = DEVREL

    def get_queryset(self) -> QuerySet[Member]:
        return _members()


class OrganizationList(RoleListAPIView[Organization]):
    serializer_class = OrganizationOutput
    roles = READERS

    def get_queryset(self) -> QuerySet[Organization]:
        return selectors.organizations_with_counts(q=self.request.query_params.get("q", ""))


class AccountList(RoleListAPIView[Account]):
    serializer_class = AccountOutput
    roles = READERS

    def get_queryset(self) -> QuerySet[Account]:
        return selectors.accounts_list(tier=self.request.query_params.get("tier", ""))


class SuggestionList(RoleListAPIView[MergeSuggestion]):
    """Merge suggestions (open ones by default; ``?status=accepted|rejected|open``)."""

    serializer_class = SuggestionOutput
    roles = DEVREL

    def get_queryset(self) -> QuerySet[MergeSuggestion]:
        status = self.request.query_params.get("status", MergeSuggestion.Status.OPEN)
        return MergeSuggestion.objects.filter(status=status).order_by("-created_at", "-id")


class DecisionInput(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["accept", "reject"])


class SuggestionDecide(RoleAPIView, generics.GenericAPIView[MergeSuggestion]):
    """POST ``{"decision": "accept"|"reject"}``; accepting merges the pair (undoable from the history)."""

    serializer_class = DecisionInput
    roles = DEVREL

    def get_queryset(self) -> QuerySet[MergeSuggestion]:
        return MergeSuggestion.objects.all()

    def post(self, request: Request, pk: int) -> Response:
        suggestion = self.get_object()
        data = DecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            if data.validated_data["decision"] == "accept":
                record = services.merge_suggestion_accept(suggestion=suggestion, by=self.user)
                body: dict[str, Any] = {"status": "accepted", "merge_record": record.pk, "member": record.target_id}
            else:
                services.merge_suggestion_reject(suggestion=suggestion, by=self.user)
                body = {"status": "rejected"}
        except TownsquareError as exc:
            raise serializers.ValidationError({"detail": exc.message}) from None
        return Response(body)
