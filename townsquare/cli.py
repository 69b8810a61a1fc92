"""The ``townsquare`` command: Django management commands with Townsquare's settings.

Settings problems are printed one line each (naming the variable) instead of a traceback.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "townsquare.settings")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from django.core.exceptions import ImproperlyConfigured

    try:
        import django

        django.setup()
    except ImproperlyConfigured as exc:
        for line in str(exc).splitlines():
            print(f"townsquare: {line}", file=sys.stderr)
        return 2
    from django.core.management import execute_from_command_line

    argv[0] = "townsquare"
    execute_from_command_line(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
