"""The API's shared pieces: the error handler, the role-checked view base and the ``/me`` output."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import User
from django.db.models import Model
from rest_framework import generics, serializers
from rest_framework.exceptions import NotAuthenticated, ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from townsquare.core.errors import TownsquareError
from townsquare.core.roles import has_role

if TYPE_CHECKING:
    from rest_framework.views import AsView, GenericView

_M = TypeVar("_M", bound=Model)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn service errors into 400 responses that name the record and the reason."""
    if isinstance(exc, TownsquareError):
        detail: dict[str, Any] = {"detail": exc.message}
        if exc.record is not None:
            detail["record"] = str(exc.record)
        exc = ValidationError(detail)
    return drf_exception_handler(exc, context)


class AdmitsRole(BasePermission):
    """403 unless the caller has one of the roles the view admits for the request's method."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        admitted = view.roles_for(request.method or "GET") if isinstance(view, RoleAPIView) else frozenset()
        return has_role(request.user, admitted)


class RoleAPIView(APIView):
    """An API view open to the roles it names.

    ``roles`` may call every method; ``read_roles``, when set, replaces it for GET, HEAD and OPTIONS (a list
    everyone reads but only DevRel writes to). Token and session clients both authenticate; an anonymous
    one gets 401, a user without an admitted role 403. Mix it with a DRF generic view for lists and details:
    ``class ThemeList(RoleAPIView, generics.ListAPIView[Theme])``, or use ``RoleListAPIView[Theme]``.
    """

    roles: ClassVar[frozenset[str]]
    read_roles: ClassVar[frozenset[str] | None] = None
    permission_classes = [IsAuthenticated, AdmitsRole]

    @classmethod
    def roles_for(cls, method: str) -> frozenset[str]:
        if method.upper() in READ_METHODS and cls.read_roles is not None:
            return cls.read_roles
        return cls.roles

    @classmethod
    def as_view(cls, **initkwargs: Any) -> AsView[GenericView]:
        # Token clients must get DRF's 401/403, not the login page's redirect from LoginRequiredMiddleware.
        return login_not_required(super().as_view(**initkwargs))

    @property
    def user(self) -> User:
        """The caller's account; IsAuthenticated has refused anonymous requests before any handler runs."""
        user = self.request.user
        if not isinstance(user, User):
            raise NotAuthenticated
        return user


class RoleListAPIView(RoleAPIView, generics.ListAPIView[_M]):
    """A paginated list for the roles the subclass names; it says what to list in ``get_queryset``."""


def schema_doc_excludes() -> list[type]:
    """drf-spectacular's ``GET_LIB_DOC_EXCLUDES``: the bases' docstrings are for developers, not API docs."""
    from drf_spectacular.plumbing import get_lib_doc_excludes

    return [*get_lib_doc_excludes(), RoleAPIView, RoleListAPIView]


class MeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField()
    full_name = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    teams = serializers.ListField(child=serializers.CharField())
