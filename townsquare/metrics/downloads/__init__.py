"""One fetcher per registry, each a module with ``KIND``, ``name_clean(name)`` and ``fetch(name, *, since, today)``."""

from __future__ import annotations

from types import ModuleType

from townsquare.metrics.downloads import docker, github, npm, pypi


def fetcher_for(registry: str) -> ModuleType:
    return {"pypi": pypi, "npm": npm, "docker": docker, "github": github}[registry]
