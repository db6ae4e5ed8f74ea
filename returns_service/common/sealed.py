"""Secrets the service must read back (webhook signing secrets), sealed before they are
stored: whoever reads the tables or a backup does not get them.

Fernet (the `cryptography` package: AES-128-CBC with an HMAC-SHA256, a timestamp, base64)
with the keys of ENCRYPTION_KEYS: the first seals, every one listed opens, so a new key goes
first and the old ones stay listed until `flask secrets reseal` has sealed everything again
with the new one. Without ENCRYPTION_KEYS, a key derived from SECRET_KEY (HKDF-SHA256)
seals; it also opens whatever it sealed after ENCRYPTION_KEYS is set, so setting it later
needs no step of its own.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

# What the key derived from SECRET_KEY is for: another use of SECRET_KEY gets another key.
_DERIVATION_INFO = b"returns-service: sealed secrets"


class SecretUnreadable(Exception):
    """A sealed value none of the configured keys opens (a key was removed, or SECRET_KEY
    changed while ENCRYPTION_KEYS was unset)."""

    def __init__(self) -> None:
        super().__init__(
            "None of the keys opens this stored secret: ENCRYPTION_KEYS must still list the "
            "key it was sealed with (or, with ENCRYPTION_KEYS unset, SECRET_KEY must be the "
            "one it was sealed under).")


def new_key() -> str:
    """A fresh key for ENCRYPTION_KEYS."""
    return Fernet.generate_key().decode()


def check_keys(config: Mapping[str, Any]) -> None:
    """Raise ValueError naming the setting when ENCRYPTION_KEYS holds something that is not
    a key (so the app does not start with it)."""
    _keys(str(config.get("ENCRYPTION_KEYS") or ""), str(config["SECRET_KEY"]))


def seal(plaintext: str) -> str:
    """`plaintext` sealed with the first key."""
    return _current().encrypt(plaintext.encode()).decode()


def unseal(token: str) -> str:
    """What `seal` sealed, with whichever configured key opens it."""
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable from None


def reseal(token: str) -> str:
    """`token` sealed again with the first key (after a new key was put first)."""
    try:
        return _current().rotate(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable from None


def _current() -> MultiFernet:
    config = current_app.config
    return _keys(str(config.get("ENCRYPTION_KEYS") or ""), str(config["SECRET_KEY"]))


@lru_cache(maxsize=8)
def _keys(listed: str, secret_key: str) -> MultiFernet:
    keys = []
    for position, key in enumerate(k.strip() for k in listed.split(",") if k.strip()):
        try:
            keys.append(Fernet(key))
        except ValueError:
            raise ValueError(
                f"ENCRYPTION_KEYS: key {position + 1} is not a Fernet key (32 bytes, "
                "URL-safe base64); `flask secrets new-key` prints one") from None
    keys.append(Fernet(_derived(secret_key)))
    return MultiFernet(keys)


def _derived(secret_key: str) -> bytes:
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=_DERIVATION_INFO).derive(secret_key.encode())
    return base64.urlsafe_b64encode(raw)
