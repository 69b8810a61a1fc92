from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from townsquare.core import roles


@roles.role_required(roles.VALUE_READERS)
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "metrics/index.html")
