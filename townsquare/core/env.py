"""Read settings from ``TOWNSQUARE_*`` environment variables.

Every helper records a problem (naming the variable) instead of raising at once,
so that ``settings.py`` can report every bad value together, one line each, when
it calls :meth:`Env.raise_if_problems`.
"""

from __future__ import annotations

import builtins
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

PREFIX = "TOWNSQUARE_"
TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


class Env:
    # The methods are named after the types they return (``env.str(...)``), so inside the class those names
    # are the methods: annotations spell the types ``builtins.str`` and so on.

    def __init__(self, environ: Mapping[builtins.str, builtins.str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ
        self.problems: builtins.list[builtins.str] = []

    def _raw(self, name: builtins.str) -> builtins.str | None:
        return self.environ.get(PREFIX + name)

    def problem(self, name: builtins.str, reason: builtins.str) -> None:
        self.problems.append(f"{PREFIX}{name}: {reason}")

    def str(self, name: builtins.str, default: builtins.str = "") -> builtins.str:
        value = self._raw(name)
        return default if value is None else value.strip()

    def bool(self, name: builtins.str, default: builtins.bool = False) -> builtins.bool:
        value = self._raw(name)
        if value is None:
            return default
        lowered = value.strip().lower()
        if lowered in TRUE:
            return True
        if lowered in FALSE:
            return False
        self.problem(name, f"expected true or false, got {value!r}")
        return default

    def int(self, name: builtins.str, default: builtins.int, *, minimum: builtins.int | None = None) -> builtins.int:
        value = self._raw(name)
        if value is None or not value.strip():
            return default
        try:
            number = int(value)
        except ValueError:
            self.problem(name, f"expected a whole number, got {value!r}")
            return default
        if minimum is not None and number < minimum:
            self.problem(name, f"must be at least {minimum}, got {number}")
            return default
        return number

    def list(self, name: builtins.str, default: builtins.list[builtins.str]) -> builtins.list[builtins.str]:
        value = self._raw(name)
        if value is None:
            return list(default)
        return [part.strip() for part in value.split(",") if part.strip()]

    def choice(self, name: builtins.str, default: builtins.str, choices: tuple[builtins.str, ...]) -> builtins.str:
        value = self.str(name, default).lower()
        if value not in choices:
            self.problem(name, f"expected one of {', '.join(choices)}, got {value!r}")
            return default
        return value

    def secret(self, name: builtins.str, default: builtins.str = "") -> builtins.str:
        """A secret from ``TOWNSQUARE_<NAME>`` or from the file named by ``TOWNSQUARE_<NAME>_FILE``."""
        value = self._raw(name)
        if value:
            return value.strip()
        path = self._raw(name + "_FILE")
        if path:
            try:
                return Path(path).read_text(encoding="utf-8").strip()
            except OSError as exc:
                self.problem(name + "_FILE", f"cannot read {path}: {exc.strerror}")
        return default

    def directory(self, name: builtins.str, default: Path) -> Path:
        """A directory that must exist (it is created) and be writable."""
        path = Path(self.str(name, str(default))).expanduser().resolve()
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.problem(name, f"cannot create {path}: {exc.strerror}")
            return path
        if not os.access(path, os.W_OK | os.X_OK):
            self.problem(name, f"{path} is not writable")
        return path

    def existing_directory(self, name: builtins.str) -> Path | None:
        """An optional directory that must already exist (nothing is created); None when unset."""
        value = self.str(name)
        if not value:
            return None
        path = Path(value).expanduser().resolve()
        if not path.is_dir():
            self.problem(name, f"{path} is not an existing directory")
            return None
        return path

    def url(self, name: builtins.str, default: builtins.str, schemes: tuple[builtins.str, ...]) -> builtins.str:
        value = self.str(name, default)
        if not value:
            return value
        scheme = urlsplit(value).scheme
        if scheme not in schemes:
            self.problem(name, f"expected a URL starting with {' or '.join(s + '://' for s in schemes)}")
            return default
        return value

    def raise_if_problems(self) -> None:
        if self.problems:
            raise ImproperlyConfigured("\n".join(self.problems))


def stored_secret(path: Path, *, nbytes: int = 48) -> str:
    """Return the secret kept in ``path``, creating it (mode 0600) on first use."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pass
    value = secrets.token_urlsafe(nbytes)
    # O_EXCL: when two processes start at once, the loser reads the winner's key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value)
    return value
