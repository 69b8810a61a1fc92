"""Every setting and every command of ours is documented."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_every_setting_is_documented() -> None:
    settings_source = (ROOT / "townsquare" / "settings.py").read_text()
    names = set(re.findall(r'env\.\w+\("([A-Z_]+)"', settings_source))
    assert names, "no settings found: the pattern no longer matches settings.py"
    documented = (ROOT / "docs" / "settings.md").read_text()
    missing = sorted(name for name in names if f"`TOWNSQUARE_{name}`" not in documented)
    assert missing == []


def test_every_command_is_documented() -> None:
    commands = {
        path.stem for path in (ROOT / "townsquare").glob("*/management/commands/*.py") if not path.name.startswith("_")
    }
    assert {"init", "demo", "serve", "worker", "scheduler"} <= commands
    documented = (ROOT / "docs" / "cli.md").read_text()
    missing = sorted(name for name in commands if f"`townsquare {name}" not in documented)
    assert missing == []
