"""Encryption at rest for secrets (chat webhook URLs, API tokens) with rotatable Fernet keys."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


def _fernet_key(material: str) -> bytes:
    # Accept real Fernet keys as-is; derive one from any other secret string.
    try:
        if len(base64.urlsafe_b64decode(material.encode())) == 32:
            return material.encode()
    except (ValueError, TypeError):
        pass
    return base64.urlsafe_b64encode(hashlib.sha256(material.encode()).digest())


@lru_cache(maxsize=4)
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(_fernet_key(key)) for key in keys])


def cipher() -> MultiFernet:
    return _cipher(tuple(settings.ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    return cipher().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return cipher().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("cannot decrypt a stored secret: was TOWNSQUARE_ENCRYPTION_KEYS changed?") from exc


class EncryptedTextField(models.TextField):
    """Stores text encrypted; the Python value is the plain text."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)


def key_fingerprint(material: str) -> str:
    """A key's public name: a digest of the Fernet key it derives (the key cannot be recovered from it)."""
    return "sha256:" + hashlib.sha256(b"townsquare key fingerprint\0" + _fernet_key(material)).hexdigest()[:32]


def key_fingerprints() -> list[str]:
    """The configured keys' fingerprints, newest first (as in TOWNSQUARE_ENCRYPTION_KEYS)."""
    return [key_fingerprint(key) for key in settings.ENCRYPTION_KEYS]
