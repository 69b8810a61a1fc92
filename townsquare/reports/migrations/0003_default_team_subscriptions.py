"""Each department's team receives its department's report by default.

Existing departments (every team but DevRel) get a team subscription to their own report;
individual ``Unsubscribe`` rows are untouched, so people who opted out stay out. New
departments are subscribed when their first report draft is made
(``reports.services.report_build_draft``). The reverse keeps the rows: once created they
cannot be told apart from subscriptions a lead chose.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def subscribe_departments(apps: Any, schema_editor: Any) -> None:
    Team = apps.get_model("people", "Team")
    Subscription = apps.get_model("reports", "Subscription")
    for team in Team.objects.exclude(kind="devrel").only("pk"):
        Subscription.objects.get_or_create(department=team, team=team)


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0005_erasure_record_removed"),
        ("reports", "0002_draft_follows_curation"),
    ]

    operations = [migrations.RunPython(subscribe_departments, migrations.RunPython.noop)]
