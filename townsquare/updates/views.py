from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from townsquare.core import roles


@roles.role_required(roles.DEVREL)
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "updates/index.html")
