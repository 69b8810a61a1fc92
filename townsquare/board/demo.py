"""Demo board: realistic DevRel tasks in every column, helpers from other teams, kudos. Idempotent.

Call after ``townsquare.home.demo.demo_load()`` (it needs the demo people and teams).
Tasks are found by title, so loading twice changes nothing; a finished task is
completed through the real service, so its announcement is recorded in the outbox
(and delivered if a destination for announcements exists).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from townsquare.board import services
from townsquare.board.models import Column, Kudos, Task, Visibility
from townsquare.people.models import Team


@dataclass(frozen=True)
class DemoTask:
    title: str
    column: Column
    owner: str
    labels: tuple[str, ...]
    description: str
    helpers: tuple[tuple[str, str], ...] = ()  # (username or "Name|Team", what they did)
    due_in_days: int | None = None
    visibility: str = Visibility.PUBLIC
    thanks: tuple[tuple[str, str, str], ...] = field(default=())  # (from, to, message)


TASKS = [
    DemoTask(
        "Kafka connector tutorial",
        Column.DONE,
        "ari",
        ("docs", "tutorial", "kafka"),
        "A step-by-step tutorial for the Kafka sink connector, from an empty cluster to the first dashboard.",
        helpers=(
            ("eli", "reviewed the code samples and fixed the offsets bug they found"),
            ("sam", "collected the ten questions customers ask most"),
        ),
        thanks=(("dana", "eli", "turned the review around in a day"),),
    ),
    DemoTask(
        "Talk: “Observability without the bill” at KubeCon",
        Column.DONE,
        "dana",
        ("talks", "events"),
        "Talk and live demo; the recording is linked from the events page.",
        helpers=(
            ("priya", "walked us through the roadmap slides"),
            ("Lena Fischer|Engineering", "built the demo cluster"),
        ),
    ),
    DemoTask(
        "Office hours for the 3.0 migration",
        Column.DONE,
        "ari",
        ("community", "support"),
        "Two one-hour sessions on Discord, with a written summary in the forum.",
        helpers=(("sam", "brought the open migration tickets"),),
    ),
    DemoTask(
        "Rewrite the quick start",
        Column.REVIEW,
        "ari",
        ("docs",),
        "The quick start takes 25 minutes today; aim for 5.",
        helpers=(("mia", "tested it as a newcomer"),),
        due_in_days=4,
    ),
    DemoTask(
        "Python SDK examples repository",
        Column.REVIEW,
        "dana",
        ("sdk", "code"),
        "Runnable examples for every API call, tested in CI.",
        helpers=(("eli", "set up the CI job"),),
        due_in_days=-2,
    ),
    DemoTask(
        "Newsletter: October edition",
        Column.DOING,
        "dana",
        ("newsletter",),
        "Community highlights, the release, two tutorials and the meetup calendar.",
        helpers=(("marco", "edited the draft"), ("mia", "picked the community highlights")),
        due_in_days=6,
    ),
    DemoTask(
        "Sales demo: streaming analytics in 10 minutes",
        Column.DOING,
        "ari",
        ("demo", "sales"),
        "A scripted demo sales can give on their own, with a reset button.",
        helpers=(("sofia", "shared what prospects ask in first calls"),),
        due_in_days=10,
    ),
    DemoTask(
        "Community health report for Q3",
        Column.DOING,
        "dana",
        ("metrics",),
        "Active members, response times and retention, per channel.",
        visibility=Visibility.INTERNAL,
    ),
    DemoTask(
        "Meetup in Lisbon",
        Column.BACKLOG,
        "ari",
        ("events", "community"),
        "Venue, two speakers, pizza. Ask the local user group to co-host.",
        due_in_days=45,
    ),
    DemoTask(
        "Integration tutorial: Terraform provider",
        Column.BACKLOG,
        "",
        ("docs", "tutorial"),
        "Requested by Support: customers keep asking how to provision with Terraform.",
    ),
    DemoTask(
        "Answer the top 20 unanswered forum threads",
        Column.BACKLOG,
        "ari",
        ("community", "support"),
        "Start with the threads with the most views.",
        helpers=(("sam", "flagged the threads customers linked in tickets"),),
    ),
    DemoTask(
        "Plan the ambassador programme",
        Column.BACKLOG,
        "dana",
        ("community",),
        "Who, what they get, what we ask of them.",
        visibility=Visibility.INTERNAL,
    ),
]


@transaction.atomic
def board_demo_load() -> dict[str, int]:
    User = get_user_model()
    people = {user.username: user for user in User.objects.all()}
    if "dana" not in people:
        raise RuntimeError("load the home demo first (townsquare.home.demo.demo_load)")
    teams = {team.name: team for team in Team.objects.all()}
    created = 0
    for spec in TASKS:
        if Task.objects.filter(title=spec.title).exists():
            continue
        created += 1
        lead = people["dana"]
        owner = people.get(spec.owner) if spec.owner else None
        due = timezone.localdate() + dt.timedelta(days=spec.due_in_days) if spec.due_in_days is not None else None
        task = services.task_create(
            title=spec.title,
            description=spec.description,
            owner=owner,
            due_date=due,
            labels=list(spec.labels),
            visibility=spec.visibility,
            by=lead,
        )
        for who, what in spec.helpers:
            if "|" in who:
                name, team_name = who.split("|", 1)
                services.collaborator_add(task=task, name=name, team=teams.get(team_name), contribution=what, by=lead)
            else:
                services.collaborator_add(task=task, user=people[who], contribution=what, by=lead)
        path = {
            Column.BACKLOG: [],
            Column.DOING: [Column.DOING],
            Column.REVIEW: [Column.DOING, Column.REVIEW],
            Column.DONE: [Column.DOING, Column.REVIEW, Column.DONE],
        }[spec.column]
        for column in path:
            task = services.task_move(task=task, column=column, by=owner or lead)
        for giver, receiver, message in spec.thanks:
            services.kudos_give(by=people[giver], user=people[receiver], message=message, task=task)
    return {"tasks": Task.objects.count(), "created": created, "kudos": Kudos.objects.count()}
