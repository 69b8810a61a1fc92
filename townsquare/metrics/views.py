from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from townsquare.core import roles
from townsquare.core.http import AuthenticatedHttpRequest


@roles.role_required(roles.VALUE_READERS)
def index(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "metrics/index.html")
