from __future__ import annotations

from typing import Any

from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import User
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from drf_spectacular.utils import extend_schema
from rest_framework.authtoken.models import Token
from rest_framework.decorators import api_view
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from townsquare.core import login, roles
from townsquare.core.api import MeOutput
from townsquare.core.feeds import feed_token_issue, feed_token_revoke
from townsquare.core.http import AuthenticatedHttpRequest
from townsquare.core.models import FeedToken


def _account(request: AuthenticatedHttpRequest, **extra: Any) -> HttpResponse:
    context = {
        "has_token": Token.objects.filter(user=request.user).exists(),
        "new_token": None,
        "feed": FeedToken.objects.filter(user=request.user).first(),
        "new_feed_token": None,
        **extra,
    }
    return render(request, "core/account.html", context)


@roles.role_required(roles.ALL)
def account(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _account(request)


@require_POST
@roles.role_required(roles.ALL)
def account_token(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Issue a new API token; it is shown once and never again."""
    Token.objects.filter(user=request.user).delete()
    token = Token.objects.create(user=request.user)
    return _account(request, has_token=True, new_token=token.key)


@require_POST
@roles.role_required(roles.ALL)
def account_feed_token(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Make (or replace) the private feed token, shown once with the feed links; or revoke it."""
    if request.POST.get("action") == "revoke":
        feed_token_revoke(user=request.user)
        messages.success(request, "Feed token revoked: your feed links no longer work.")
        return redirect("account")
    token = feed_token_issue(user=request.user)
    links = [
        ("Done by DevRel", f"{settings.BASE_URL}{reverse('board:done-atom')}?token={token}"),
        ("Weekly reports, company-wide", f"{settings.BASE_URL}{reverse('reports:feed', args=['all'])}?token={token}"),
    ]
    return _account(request, new_feed_token=token, feed_links=links, feed=FeedToken.objects.get(user=request.user))


LOGIN_LOG_ROWS = 200


@roles.role_required(roles.LEADS)
def login_log(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Failed logins and lockouts, newest first, and who is locked out now; administrators unlock from here."""
    failures = AccessFailureLog.objects.order_by("-attempt_time", "-pk")[:LOGIN_LOG_ROWS]
    context = {
        "failures": failures,
        "locked": login.locked_now(),
        "can_unlock": roles.has_role(request.user, {roles.Role.ADMIN}),
        "attempts": AccessAttempt.objects.count(),
    }
    return render(request, "core/login_log.html", context)


@require_POST
@roles.role_required({roles.Role.ADMIN})
def login_log_unlock(request: AuthenticatedHttpRequest) -> HttpResponse:
    username, address = request.POST.get("username", ""), request.POST.get("address", "")
    cleared = login.login_unlock(username=username, address=address)
    what = f"account {username!r}" if username else f"address {address}"
    messages.success(request, f"Unlocked {what}: {cleared} attempt record(s) cleared.")
    return redirect("login-log")


@login_not_required
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers: says whether the database answers, nothing else."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


@login_not_required
def root_redirect(request: HttpRequest) -> HttpResponse:
    return redirect("dashboard")


@login_not_required  # API clients authenticate with a token; DRF's IsAuthenticated guards it
@extend_schema(responses=MeOutput, summary="The authenticated user, with roles and teams")
@api_view(["GET"])
def api_me(request: Request) -> Response:
    user = request.user
    if not isinstance(user, User):  # DRF's IsAuthenticated has already refused anyone else
        raise NotAuthenticated
    data = {
        "id": user.pk,
        "username": user.get_username(),
        "email": user.email,
        "full_name": user.get_full_name(),
        "roles": sorted(roles.roles_of(user)),
        "teams": list(user.teams.values_list("slug", flat=True)),
    }
    return Response(MeOutput(data).data)
