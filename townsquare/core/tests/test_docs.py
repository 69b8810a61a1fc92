"""Every setting and every command of ours is documented, and settings are read in one place."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "townsquare"
# Env helpers take the variable's name without the TOWNSQUARE_ prefix: env.int("NOTIFY_MAX_ATTEMPTS", ...).
ENV_CALL = re.compile(r'\b(?:env|Env\(\))\.\w+\(\s*"([A-Z][A-Z0-9_]*)"')


def product_modules() -> list[Path]:
    # townsquare/testing is the test suite's support code (it reads CI, the test database's path, ...).
    skip = {"tests", "migrations", "testing"}
    return sorted(path for path in PACKAGE.rglob("*.py") if not skip & set(path.relative_to(PACKAGE).parts))


def settings_read(source: str) -> set[str]:
    return {f"TOWNSQUARE_{name}" for name in ENV_CALL.findall(source)}


def environment_reads(source: str) -> list[int]:
    """Lines that read the process environment: os.environ[...], .get(), os.getenv(...)."""
    return sorted(
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute)
        and node.attr in {"environ", "getenv"}
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def test_the_scan_finds_settings_wherever_they_are_read() -> None:
    source = 'x = env.int("NOTIFY_MAX_ATTEMPTS", 8)\ny = Env().str("MODEL_CACHE")\nz = env.bool(\n    "DEBUG")\n'
    assert settings_read(source) == {"TOWNSQUARE_NOTIFY_MAX_ATTEMPTS", "TOWNSQUARE_MODEL_CACHE", "TOWNSQUARE_DEBUG"}
    assert environment_reads("import os\na = os.environ.get('X')\nb = os.getenv('Y')\n") == [2, 3]


def test_every_setting_is_documented() -> None:
    names: set[str] = set()
    for path in product_modules():
        names |= settings_read(path.read_text())
    assert {"TOWNSQUARE_DATABASE_URL", "TOWNSQUARE_EMBEDDING_THREADS", "TOWNSQUARE_BIND"} <= names
    documented = (ROOT / "docs" / "settings.md").read_text()
    missing = sorted(name for name in names if f"`{name}`" not in documented)
    assert missing == []


def test_only_core_env_reads_the_environment() -> None:
    """Settings come from TOWNSQUARE_* variables through core/env.py; nothing else reads os.environ.

    The entry points (cli.py, wsgi.py) and the embedding loader only *set* defaults for Django and the
    Hugging Face libraries (DJANGO_SETTINGS_MODULE, HF_HUB_OFFLINE), which is allowed through setdefault.
    """
    offenders = []
    for path in product_modules():
        if path == PACKAGE / "core" / "env.py":
            continue
        source = path.read_text()
        for line in environment_reads(source):
            text = source.splitlines()[line - 1]
            if "os.environ.setdefault(" not in text:
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {text.strip()}")
    assert offenders == []


def test_every_command_is_documented() -> None:
    commands = {path.stem for path in PACKAGE.glob("*/management/commands/*.py") if not path.name.startswith("_")}
    assert {"init", "demo", "serve", "worker", "scheduler"} <= commands
    documented = (ROOT / "docs" / "cli.md").read_text()
    missing = sorted(name for name in commands if f"`townsquare {name}" not in documented)
    assert missing == []
