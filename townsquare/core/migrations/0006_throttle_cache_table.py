"""The API throttle's cache table (settings.CACHES["throttle"], a DatabaseCache), made by ``migrate`` itself.

``createcachetable`` is not part of ``migrate``: a deployment that only migrates (the README's upgrade path,
a benchmark, a restore) would answer its first API request with "relation townsquare_cache does not exist".
The command skips tables that exist, so running it here again is harmless.
"""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.db import migrations


def create_cache_tables(apps: Any, schema_editor: Any) -> None:
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("core", "0005_feed_token")]

    operations = [migrations.RunPython(create_cache_tables, migrations.RunPython.noop, elidable=False)]
