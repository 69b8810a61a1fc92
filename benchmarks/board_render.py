"""Board page render time with 5,000 tasks and 20,000 collaborators.

    .venv/bin/python benchmarks/board_render.py [--runs 30] [--tasks 5000] [--collaborators 20000]

Sets up Django against a fresh SQLite file in a temporary directory, bulk-creates the
data, then times GET /board/ through the Django test client as a DevRel member (who
also gets the per-card move forms). Prints median and max milliseconds and the
number of queries per render.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--collaborators", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name in [k for k in os.environ if k.startswith("TOWNSQUARE_")]:
            del os.environ[name]
        os.environ["TOWNSQUARE_DATA_DIR"] = tmp
        os.environ["TOWNSQUARE_LOG_LEVEL"] = "warning"
        os.environ["DJANGO_SETTINGS_MODULE"] = "townsquare.settings"
        import django

        django.setup()
        from django.conf import settings

        # No collectstatic manifest in a throwaway directory: serve static URLs plainly.
        settings.STORAGES = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        from django.core.management import call_command

        start = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(f"migrated a fresh SQLite database in {time.perf_counter() - start:.1f} s")
        user = seed(args.tasks, args.collaborators)
        measure(user, args.runs)


def seed(task_count: int, collaborator_count: int):  # type: ignore[no-untyped-def]
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from townsquare.board.models import Collaborator, Column, Label, Task, Visibility
    from townsquare.core.roles import Role
    from townsquare.people.services import roles_ensure, team_ensure, user_ensure

    rng = random.Random(8)
    start = time.perf_counter()
    with transaction.atomic():
        roles_ensure()
        teams = [
            team_ensure(name=name, kind=kind)
            for name, kind in (
                ("DevRel", "devrel"),
                ("Engineering", "engineering"),
                ("Support", "support"),
                ("Sales", "sales"),
                ("Marketing", "marketing"),
                ("Product", "product"),
                ("Customer Success", "customer_success"),
            )
        ]
        devrel = user_ensure(
            username="dana",
            email="dana@example.com",
            full_name="Dana Okafor",
            role=Role.DEVREL_LEAD,
            team=teams[0],
            is_lead=True,
        )
        User = get_user_model()
        User.objects.bulk_create(
            [
                User(
                    username=f"person{i}", first_name=f"Person{i}", last_name="Example", email=f"person{i}@example.com"
                )
                for i in range(200)
            ]
        )
        people = list(User.objects.all())
        labels = Label.objects.bulk_create([Label(name=f"label {i}", slug=f"label-{i}") for i in range(30)])
        weights = {Column.BACKLOG: 0.3, Column.DOING: 0.06, Column.REVIEW: 0.04, Column.DONE: 0.6}
        columns = rng.choices(list(weights), weights=list(weights.values()), k=task_count)
        tasks = Task.objects.bulk_create(
            [
                Task(
                    title=f"Task {i}: a tutorial, a talk or a demo with a realistic title length",
                    column=column,
                    position=i * 1024,
                    owner=rng.choice(people),
                    description="Some words about the work.",
                    visibility=Visibility.INTERNAL if i % 10 == 0 else Visibility.PUBLIC,
                )
                for i, column in enumerate(columns)
            ],
            batch_size=1000,
        )
        Task.labels.through.objects.bulk_create(
            [
                Task.labels.through(task_id=task.pk, label_id=label.pk)
                for task in tasks
                for label in rng.sample(labels, 2)
            ],
            batch_size=2000,
        )
        Collaborator.objects.bulk_create(
            [
                Collaborator(
                    task=tasks[i % len(tasks)],
                    user=None,
                    name=f"Helper {i}",
                    team=rng.choice(teams[1:]),
                    contribution="reviewed the examples",
                )
                for i in range(collaborator_count)
            ],
            batch_size=2000,
        )
    print(
        f"created {Task.objects.count():,} tasks and {Collaborator.objects.count():,} collaborators "
        f"in {time.perf_counter() - start:.1f} s"
    )
    return devrel


def measure(user, runs: int) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test import Client

    from townsquare.board.selectors import COLUMN_LIMIT

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    for _ in range(3):  # warm-up: templates compiled, caches filled
        response = client.get("/board/")
        assert response.status_code == 200, response.status_code
    queries = []

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get("/board/")
    cards = response.content.count(b'class="task-card')
    print(
        f"board page: {cards} cards shown (at most {COLUMN_LIMIT} per column), {len(response.content) // 1024} KiB, "
        f"{len(queries)} queries"
    )
    for label, path in (
        ("GET /board/", "/board/"),
        ("GET /board/?team=…&label=…", "/board/?team=engineering&label=label-3"),
    ):
        wall, cpu = [], []
        for _ in range(runs):
            start, start_cpu = time.perf_counter(), time.process_time()
            client.get(path)
            wall.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        # On a busy machine wall time includes waiting for a core; CPU time is what the render costs.
        print(
            f"{label} over {runs} runs: median {statistics.median(wall):.1f} ms, max {max(wall):.1f} ms "
            f"(CPU: median {statistics.median(cpu):.1f} ms, max {max(cpu):.1f} ms)"
        )


if __name__ == "__main__":
    main()
