"""Secrets kept sealed in the database (ASVS 2.9.1 / 6.4.1): a TOTP secret is encrypted before it is stored.

A stolen copy of the database or a backup then holds no working second factor. Sealing is Fernet (AES-128-CBC with
an HMAC-SHA256 tag, from the `cryptography` package) under a key derived with HKDF from `TWO_FACTOR_KEY`, or from
`SECRET_KEY` when that is not set. Stored values read "f1:<token>".

Changing the key makes existing secrets unreadable: they read as "" (never a valid secret), so codes are refused
and nothing is exposed; the user signs in with a recovery code or an admin resets their two-factor sign-in.
"""

from __future__ import annotations

import base64
import functools
import logging

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy.types import String, TypeDecorator

PREFIX = "f1:"
UNREADABLE = ""
log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=4)
def _fernet(material: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"fundapp two-factor secrets").derive(material.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _box() -> Fernet:
    config = current_app.config
    return _fernet(config.get("TWO_FACTOR_KEY") or config["SECRET_KEY"])


def seal(plain: str) -> str:
    return PREFIX + _box().encrypt(plain.encode()).decode("ascii")


def unseal(stored: str) -> str:
    if not stored.startswith(PREFIX):
        log.warning("a two-factor secret is stored unsealed; it is not used")
        return UNREADABLE
    try:
        return _box().decrypt(stored[len(PREFIX):].encode("ascii")).decode()
    except InvalidToken:
        log.warning("a two-factor secret cannot be unsealed with the current key (TWO_FACTOR_KEY / SECRET_KEY)")
        return UNREADABLE


class SealedString(TypeDecorator):
    """A string column stored sealed; the application sees the plain value."""

    impl = String(255)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else seal(value)

    def process_result_value(self, value, dialect):
        return None if value is None else unseal(value)
