from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from townsquare.core.env import Env, stored_secret
from townsquare.testing.processes import townsquare_command


def test_it_reads_typed_values() -> None:
    env = Env({"TOWNSQUARE_A": "yes", "TOWNSQUARE_N": "42", "TOWNSQUARE_L": "a, b,,c"})
    assert env.bool("A") is True
    assert env.int("N", 1) == 42
    assert env.list("L", []) == ["a", "b", "c"]
    assert env.str("MISSING", "default") == "default"
    env.raise_if_problems()


def test_it_reports_every_bad_value_on_its_own_line_naming_the_variable() -> None:
    env = Env({"TOWNSQUARE_DEBUG": "maybe", "TOWNSQUARE_WORKERS": "two", "TOWNSQUARE_MODE": "prod"})
    env.bool("DEBUG")
    env.int("WORKERS", 1)
    env.choice("MODE", "local", ("local", "production"))
    with pytest.raises(ImproperlyConfigured) as caught:
        env.raise_if_problems()
    assert str(caught.value).splitlines() == [
        "TOWNSQUARE_DEBUG: expected true or false, got 'maybe'",
        "TOWNSQUARE_WORKERS: expected a whole number, got 'two'",
        "TOWNSQUARE_MODE: expected one of local, production, got 'prod'",
    ]


def test_a_secret_can_come_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "key"
    secret.write_text("from-a-file\n")
    assert Env({"TOWNSQUARE_SECRET_KEY_FILE": str(secret)}).secret("SECRET_KEY") == "from-a-file"
    env = Env({"TOWNSQUARE_SECRET_KEY_FILE": str(tmp_path / "missing")})
    assert env.secret("SECRET_KEY") == ""
    assert env.problems[0].startswith("TOWNSQUARE_SECRET_KEY_FILE: cannot read")


def test_a_generated_secret_is_stored_privately_and_reused(tmp_path: Path) -> None:
    first = stored_secret(tmp_path / "secret_key")
    assert len(first) > 40
    assert stored_secret(tmp_path / "secret_key") == first
    assert stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode) == 0o600


def run_check(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TOWNSQUARE_")}
    base.update({"TOWNSQUARE_DATA_DIR": str(tmp_path / "data"), **env})
    return subprocess.run(
        townsquare_command("check"), check=False, env=base, capture_output=True, text=True, timeout=120
    )


def test_start_up_stops_with_one_line_per_bad_setting(tmp_path: Path) -> None:
    result = run_check(tmp_path, TOWNSQUARE_DATABASE_URL="mysql://nope", TOWNSQUARE_DEBUG="perhaps")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "townsquare: TOWNSQUARE_DEBUG: expected true or false, got 'perhaps'",
        "townsquare: TOWNSQUARE_DATABASE_URL: only sqlite:// and postgres:// databases are supported",
    ]
    assert "Traceback" not in result.stderr


def test_an_unwritable_data_dir_is_named(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        target = "/proc/townsquare-cannot-exist-here"  # even root cannot create directories in /proc
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        target = str(locked / "data")
    result = run_check(tmp_path, TOWNSQUARE_DATA_DIR=target)
    assert result.returncode == 2
    assert result.stderr.startswith(f"townsquare: TOWNSQUARE_DATA_DIR: cannot create {target}")


def test_production_mode_requires_explicit_secrets(tmp_path: Path) -> None:
    result = run_check(tmp_path, TOWNSQUARE_MODE="production")
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith("townsquare: TOWNSQUARE_SECRET_KEY: is required when TOWNSQUARE_MODE=production")
    assert lines[1].startswith("townsquare: TOWNSQUARE_ENCRYPTION_KEYS: is required")
    assert not (tmp_path / "data" / "secret_key").exists()


def test_an_unreachable_database_is_reported_by_check(tmp_path: Path) -> None:
    result = run_check(tmp_path, TOWNSQUARE_DATABASE_URL="postgres://nobody@127.0.0.1:1/none")
    assert result.returncode != 0
    assert "TOWNSQUARE_DATABASE_URL: cannot connect to the database" in result.stderr


def test_a_healthy_local_configuration_passes_check_with_only_the_email_warning(tmp_path: Path) -> None:
    result = run_check(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "TOWNSQUARE_EMAIL_URL: not set" in result.stderr + result.stdout
    assert (tmp_path / "data" / "secret_key").exists()


def production_env(tmp_path: Path, **env: str) -> dict[str, str]:
    from cryptography.fernet import Fernet

    return {
        "TOWNSQUARE_MODE": "production",
        "TOWNSQUARE_SECRET_KEY": "a-production-secret-key-for-the-test-only-0123456789",
        "TOWNSQUARE_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "TOWNSQUARE_BASE_URL": "https://devrel.example.com",
        "TOWNSQUARE_ALLOWED_HOSTS": "devrel.example.com",
        "TOWNSQUARE_EMAIL_URL": "mailto://localhost",
        "TOWNSQUARE_DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        **env,
    }


HSTS_PROBE = (
    "from django.test import Client; "
    "r = Client().get('/healthz', secure=True, headers={'host': 'devrel.example.com'}); "
    "print('HSTS=' + r.headers.get('Strict-Transport-Security', 'none'))"
)


def run_shell(tmp_path: Path, code: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TOWNSQUARE_")}
    base.update({"TOWNSQUARE_DATA_DIR": str(tmp_path / "data"), **env})
    return subprocess.run(
        townsquare_command("shell", "-c", code), check=False, env=base, capture_output=True, text=True, timeout=120
    )


def test_production_over_https_sends_hsts_with_the_configured_max_age(tmp_path: Path) -> None:
    default = run_shell(tmp_path, HSTS_PROBE, **production_env(tmp_path))
    assert "HSTS=max-age=31536000" in default.stdout, default.stderr
    shorter = run_shell(tmp_path, HSTS_PROBE, **production_env(tmp_path, TOWNSQUARE_HSTS_SECONDS="300"))
    assert "HSTS=max-age=300" in shorter.stdout, shorter.stderr
    local = run_shell(
        tmp_path,
        HSTS_PROBE,
        TOWNSQUARE_BASE_URL="https://devrel.example.com",
        TOWNSQUARE_ALLOWED_HOSTS="devrel.example.com",
    )
    assert "HSTS=none" in local.stdout, local.stderr  # local mode: a laptop must not pin https for a year


def test_check_flags_production_over_https_without_hsts(tmp_path: Path) -> None:
    result = run_check(tmp_path, **production_env(tmp_path, TOWNSQUARE_HSTS_SECONDS="0"))
    assert "TOWNSQUARE_HSTS_SECONDS: 0, so browsers are not told to use https only" in result.stderr + result.stdout
    healthy = run_check(tmp_path, **production_env(tmp_path))
    assert "HSTS" not in healthy.stderr + healthy.stdout
