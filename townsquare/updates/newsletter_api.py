"""Newsletter API: drop and list links, read issues with their sections and Markdown, the DevRel share."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from townsquare.core.api import RoleAPIView, RoleListAPIView
from townsquare.core.roles import DEVREL, READERS, STAKEHOLDERS
from townsquare.updates.models import DroppedLink, Newsletter, NewsletterSection
from townsquare.updates.newsletter_export import newsletter_markdown
from townsquare.updates.selectors import newsletter as selectors
from townsquare.updates.services import newsletter as services


class LinkOutput(serializers.ModelSerializer):
    dropped_by = serializers.CharField(source="dropped_by_name")

    class Meta:
        model = DroppedLink
        fields = ["id", "url", "title", "note", "dropped_by", "via", "created_at"]


class LinkInput(serializers.Serializer):
    url = serializers.CharField(max_length=2000)
    note = serializers.CharField(max_length=500)


class LinkListCreate(RoleAPIView, generics.ListCreateAPIView[DroppedLink]):
    """Dropped links, newest first. POST drops one (refused with 400 when not http(s) or a duplicate)."""

    serializer_class = LinkOutput
    roles = DEVREL | STAKEHOLDERS
    read_roles = READERS

    def get_queryset(self) -> QuerySet[DroppedLink]:
        return selectors.links_recent()

    @extend_schema(request=LinkInput, responses={201: LinkOutput})
    def post(self, request: Request) -> Response:
        data = LinkInput(data=request.data)
        data.is_valid(raise_exception=True)
        link = services.link_drop(
            url=data.validated_data["url"], note=data.validated_data["note"], by=self.user, via=DroppedLink.Via.API
        )
        return Response(LinkOutput(link).data, status=status.HTTP_201_CREATED)


class SectionOutput(serializers.ModelSerializer):
    class Meta:
        model = NewsletterSection
        fields = ["id", "position", "kind", "heading", "body", "url"]


class NewsletterOutput(serializers.ModelSerializer):
    class Meta:
        model = Newsletter
        fields = ["id", "title", "period_start", "period_end", "status", "review_requested_at", "decided_at"]


class NewsletterDetailOutput(NewsletterOutput):
    sections = serializers.SerializerMethodField()
    markdown = serializers.SerializerMethodField()

    class Meta(NewsletterOutput.Meta):
        fields = [*NewsletterOutput.Meta.fields, "sections", "markdown"]

    @extend_schema_field(SectionOutput(many=True))
    def get_sections(self, newsletter: Newsletter) -> list[dict[str, object]]:
        return SectionOutput(self.context["sections"], many=True).data  # type: ignore[return-value]

    def get_markdown(self, newsletter: Newsletter) -> str:
        return newsletter_markdown(newsletter, self.context["sections"])


class NewsletterList(RoleListAPIView[Newsletter]):
    serializer_class = NewsletterOutput
    roles = READERS

    def get_queryset(self) -> QuerySet[Newsletter]:
        return selectors.newsletter_list()


class NewsletterDetail(RoleAPIView):
    roles = READERS

    @extend_schema(responses={200: NewsletterDetailOutput})
    def get(self, request: Request, pk: int) -> Response:
        newsletter = selectors.newsletter_get_for_user(self.user, pk)
        sections = selectors.newsletter_sections(newsletter)
        return Response(NewsletterDetailOutput(newsletter, context={"sections": sections}).data)


class ShareOutput(serializers.Serializer):
    newsletter_id = serializers.IntegerField()
    title = serializers.CharField()
    period_end = serializers.DateField()
    devrel_chars = serializers.IntegerField()
    total_chars = serializers.IntegerField()
    share = serializers.FloatField()


class DevrelShare(RoleAPIView):
    """Per issue, oldest first: the share of its text DevRel wrote (mentoring evidence)."""

    roles = READERS

    @extend_schema(responses={200: ShareOutput(many=True)})
    def get(self, request: Request) -> Response:
        return Response(ShareOutput(selectors.devrel_text_share(), many=True).data)
