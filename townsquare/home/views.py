from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from townsquare.core import roles
from townsquare.home.selectors import dashboard_summary


@roles.role_required(roles.ALL)
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "home/dashboard.html", {"summary": dashboard_summary(user=request.user)})
