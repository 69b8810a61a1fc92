from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from townsquare.core import roles


@roles.role_required(roles.ALL)
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/index.html")
