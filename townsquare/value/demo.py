"""Demo: two quarters of history before this one, so last quarter's value report has something to say.

The other demo loaders fill the current quarter (budgets, requests, board); a value report is written about
a quarter that has ended. This loader records, as history, budgets and finished requests for the last two
quarters (Marketing asked DevRel for blog posts, got writing mentoring last quarter and has written its own
since), tasks finished last quarter with colleagues credited, and thank-yous. Written directly, as an import
of past records would be: the request services refuse a quarter that is over. Loading twice changes nothing.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction

from townsquare.board.models import Collaborator, Column, Kudos, Task
from townsquare.core.quarters import Quarter, current_quarter, quarter_bounds
from townsquare.intake.models import Budget, LedgerEntry, Request, RequestType
from townsquare.intake.selectors import stakeholder_teams
from townsquare.people.models import Team

BUDGET_POINTS = 15
# (quarters back, team, requester, type slug, converted from, title, day of the quarter)
HISTORY = [
    (2, "Marketing", "mia", "new-blog-post", "", "Blog post: getting started with Acme Cloud", 9),
    (2, "Marketing", "marco", "new-blog-post", "", "Blog post: the Python SDK in ten minutes", 40),
    (2, "Support", "sam", "qa-session", "", "Q&A session for the support team", 21),
    (2, "Sales", "sofia", "demo", "", "Demo for the Northbay evaluation", 30),
    (2, "Engineering", "eli", "docs-review", "", "Review the CLI reference", 55),
    (1, "Marketing", "mia", "mentoring-writing", "new-blog-post", "Blog post: streaming recipes", 6),
    (1, "Sales", "sofia", "demo", "", "Demo for the Brightlattice renewal", 18),
    (1, "Sales", "sofia", "demo", "", "Demo at the partner summit", 47),
    (1, "Support", "sam", "mentoring-community", "community-response", "Answer the forum's Kafka threads", 25),
    (1, "Engineering", "eli", "integration-tutorial", "", "Kafka connector tutorial", 12),
    (1, "Product", "priya", "metrics-pull", "", "Community metrics for the roadmap review", 60),
]
# (title, owner, days into last quarter, [(collaborator, team, contribution)], [(thanked, team, message)])
TASKS = [
    ("Kafka connector tutorial", "ari", 34, [("eli", "Engineering", "reviewed the code samples")],
     [("eli", "Engineering", "stayed late to fix the sample repo")]),
    ("Forum answers for the Kafka launch", "ari", 52, [("sam", "Support", "answered twelve forum threads")],
     [("sam", "Support", "took the weekend shift on the forum")]),
    ("Roadmap review: community metrics", "dana", 66, [("priya", "Product", "brought the product questions")], []),
    ("Partner summit demo", "ari", 50, [("sofia", "Sales", "ran the customer half of the demo")], []),
]  # fmt: skip


def _at(quarter: Quarter, day: int) -> dt.datetime:
    return quarter_bounds(quarter)[0] + dt.timedelta(days=day, hours=10)


def _requests(teams: dict[str, Team]) -> int:
    User = get_user_model()
    types = {t.slug: t for t in RequestType.objects.all()}
    created = 0
    for back, team_name, username, slug, converted, title, day in HISTORY:
        quarter = current_quarter()
        for _ in range(back):
            quarter = quarter.previous()
        team, requester, kind = teams.get(team_name), User.objects.filter(username=username).first(), types.get(slug)
        if team is None or requester is None or kind is None or Request.objects.filter(team=team, title=title).exists():
            continue
        budget, _ = Budget.objects.get_or_create(team=team, quarter=quarter.key, defaults={"points": BUDGET_POINTS})
        status = Request.Status.MENTORING if converted else Request.Status.DONE
        request = Request.objects.create(
            team=team, budget=budget, requester=requester, type=kind, original_type=types.get(converted),
            title=title, status=status, points=kind.points,
        )  # fmt: skip
        Request.objects.filter(pk=request.pk).update(created_at=_at(quarter, day), updated_at=_at(quarter, day + 14))
        entry = LedgerEntry.objects.create(
            budget=budget, request=request, kind=LedgerEntry.Kind.SPEND, spent=kind.points
        )
        LedgerEntry.objects.filter(pk=entry.pk).update(created_at=_at(quarter, day + 1))
        created += 1
    return created


def _tasks(teams: dict[str, Team]) -> int:
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in=["dana", "ari", "eli", "sam", "priya", "sofia"])}
    quarter = current_quarter().previous()
    created = 0
    for title, owner, day, collaborators, thanks in TASKS:
        if owner not in users or Task.objects.filter(title=title, done_at__lt=quarter_bounds(quarter)[1]).exists():
            continue
        done_at = _at(quarter, day)
        task = Task.objects.create(title=title, owner=users[owner], column=Column.DONE, done_at=done_at,
                                   done_by=users[owner], completions=1)  # fmt: skip
        for username, team, contribution in collaborators:
            person = users.get(username)
            if person is None:
                continue
            collaborator = Collaborator.objects.create(task=task, user=person, team=teams.get(team),
                                                       contribution=contribution)  # fmt: skip
            kudos = Kudos.objects.create(kind=Kudos.Kind.CREDIT, task=task, task_title=title, collaborator=collaborator,
                                         user=person, team=teams.get(team), message=contribution)  # fmt: skip
            Kudos.objects.filter(pk=kudos.pk).update(created_at=done_at)
        for username, team, message in thanks:
            person = users.get(username)
            if person is None:
                continue
            kudos = Kudos.objects.create(kind=Kudos.Kind.THANKS, task=task, task_title=title, user=person,
                                         team=teams.get(team), message=message, given_by=users.get("dana"))  # fmt: skip
            Kudos.objects.filter(pk=kudos.pk).update(created_at=done_at + dt.timedelta(days=1))
        created += 1
    return created


@transaction.atomic
def value_demo_load() -> dict[str, int]:
    teams = {t.name: t for t in stakeholder_teams()}
    budgets = 0
    for quarter in (current_quarter().previous(), current_quarter().previous().previous()):
        for team in teams.values():
            _, made = Budget.objects.get_or_create(team=team, quarter=quarter.key, defaults={"points": BUDGET_POINTS})
            budgets += made
    return {"past budgets": budgets, "past requests": _requests(teams), "past tasks": _tasks(teams)}
