"""The documented ``townsquare import KIND PATH --set SETTING=VALUE`` through the real console script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from townsquare.sources.models import Message, Source
from townsquare.testing.processes import subprocess_env

CHECKOUT = Path(__file__).resolve().parents[3]
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "irc_log" / "irssi__townsquare.log"


@pytest.mark.django_db(transaction=True)
def test_the_import_command_keeps_the_settings_given_with_set() -> None:
    # The console script, not `python -m`: it is what the docs tell operators to run.
    script = Path(sys.executable).with_name("townsquare")
    result = subprocess.run(
        [
            str(script),
            "import",
            "irc_log",
            str(FIXTURE),
            "--name",
            "IRC",
            "--set",
            "channel=#townsquare",
            "--set",
            "network=libera",
        ],
        check=False,
        env=subprocess_env(PYTHONPATH=str(CHECKOUT)),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    source = Source.objects.get(name="IRC")
    assert source.config["channel"] == "#townsquare" and source.config["network"] == "libera"
    assert Message.objects.filter(source=source).exists()


@pytest.mark.django_db(transaction=True)
def test_a_set_without_an_equals_sign_is_refused_in_one_line() -> None:
    script = Path(sys.executable).with_name("townsquare")
    result = subprocess.run(
        [str(script), "import", "irc_log", str(FIXTURE), "--set", "channel"],
        check=False,
        env=subprocess_env(PYTHONPATH=str(CHECKOUT)),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode != 0
    assert "--set 'channel': expected SETTING=VALUE" in result.stderr
    assert "Traceback" not in result.stderr
