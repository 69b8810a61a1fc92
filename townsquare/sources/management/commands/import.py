from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError
from django_rich.management import RichCommand

from townsquare.core.errors import TownsquareError
from townsquare.sources import services
from townsquare.sources.connectors import archive_kinds
from townsquare.sources.management.commands._progress import RunProgress, summary_table


class Command(RichCommand):
    help = "Import an archive (Slack export zip, Discord export, IRC logs, Stack Exchange dump...) into a source."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("kind", help="Archive kind: " + ", ".join(archive_kinds()))
        parser.add_argument("path", help="Archive file or directory.")
        parser.add_argument("--name", help="Source name (created if missing); defaults to '<kind>: <file name>'.")
        parser.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="SETTING=VALUE",
            # Not "settings": Django's own --settings (the settings module) shares the options namespace.
            dest="source_settings",
            help="A source setting, as in the source form (repeatable), e.g. workspace_url=https://acme.slack.com "
            "for Slack links or url_template=... for IRC logs.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        kind = options["kind"]
        if kind not in archive_kinds():
            raise CommandError(f"unknown archive kind {kind!r}; choose one of: {', '.join(archive_kinds())}")
        path = Path(options["path"]).expanduser().resolve()
        if not path.exists():
            raise CommandError(f"{path} does not exist")
        name = options["name"] or f"{kind}: {path.name}"
        settings = {}
        for item in options.get("source_settings") or []:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise CommandError(f"--set {item!r}: expected SETTING=VALUE, e.g. workspace_url=https://acme.slack.com")
            settings[key.strip()] = value.strip()
        try:
            source, created = services.source_get_or_create(kind=kind, name=name)
        except TownsquareError as exc:
            raise CommandError(str(exc)) from exc
        if created:
            self.console.print(f"Created source {name!r}.", markup=False)
        if settings:
            services.source_update(
                source=source,
                name=source.name,
                config={**(source.config or {}), **settings},
                schedule=source.schedule,
                enabled=source.enabled,
            )
        with RunProgress(self.console, name) as progress:
            run = services.archive_import(source=source, path=path, progress=progress.update)
        self.console.print(summary_table([run]))
        if run.status == "failed":
            raise CommandError(f"import failed: {run.error}")
