from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render

from townsquare.core import roles
from townsquare.core.http import AuthenticatedHttpRequest
from townsquare.home.selectors import dashboard_summary, first_run_steps


@roles.role_required(roles.ALL)
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"summary": dashboard_summary(user=request.user)}
    if roles.has_role(request.user, roles.DEVREL):
        steps = first_run_steps(user=request.user)
        if not all(step.done for step in steps):
            context["steps"] = steps
            context["steps_done"] = sum(step.done for step in steps)
            context["next_step"] = next(step.key for step in steps if not step.done)
    return render(request, "home/dashboard.html", context)
