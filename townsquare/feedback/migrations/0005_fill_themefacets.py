"""Fill the stored facets of existing themes from their messages, as ``theme_refresh`` writes them."""

from __future__ import annotations

from typing import Any

from django.db import migrations
from django.db.models import Count, Max, Min


def fill(apps: Any, schema_editor: Any) -> None:
    Theme = apps.get_model("feedback", "Theme")
    ThemeMessage = apps.get_model("feedback", "ThemeMessage")
    ThemeFacet = apps.get_model("feedback", "ThemeFacet")
    account = "message__author__member__organization__account"
    ids = list(Theme.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = (
            ThemeMessage.objects.filter(theme_id__in=chunk)
            .values_list(
                "theme_id",
                "message__feedback_classification__kind",
                "message__feedback_classification__docs_gap",
                "message__source_id",
                f"{account}__tier",
            )
            .annotate(first=Min("message__created_at"), last=Max("message__created_at"), n=Count("id"))
            .order_by()
        )
        ThemeFacet.objects.bulk_create(
            [
                ThemeFacet(
                    theme_id=theme_id,
                    kind=kind or "",
                    docs_gap=bool(docs_gap),
                    source_id=source_id,
                    tier=tier or "",
                    first_at=first,
                    last_at=last,
                    messages=n,
                )
                for theme_id, kind, docs_gap, source_id, tier, first, last, n in rows
            ],
            batch_size=2000,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0004_themefacet"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
