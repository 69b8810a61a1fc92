from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from townsquare.core import roles
from townsquare.people import selectors
from townsquare.people.models import Team


@roles.role_required(roles.ALL)
def teams(request: HttpRequest) -> HttpResponse:
    return render(request, "people/teams.html", {"teams": selectors.teams_with_counts()})


@roles.role_required(roles.ALL)
def team(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        found = selectors.team_with_members(slug=slug)
    except Team.DoesNotExist:
        raise Http404("no such team") from None
    return render(request, "people/team.html", {"team": found})
