from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from townsquare.core import roles
from townsquare.core.http import AuthenticatedHttpRequest
from townsquare.home.selectors import dashboard_summary


@roles.role_required(roles.ALL)
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "home/dashboard.html", {"summary": dashboard_summary(user=request.user)})
