"""Secrets handed to clients once and stored only as SHA-256: API tokens and device
enrollment credentials."""

from __future__ import annotations

import hashlib
import secrets

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BODY_LENGTH = 44
API_TOKEN_PREFIX = "agyn_"
DEVICE_CREDENTIAL_PREFIX = "agynd_"
DISPLAY_PREFIX_LENGTH = 8


def _base62(number: int) -> str:
    digits = []
    while number:
        number, remainder = divmod(number, 62)
        digits.append(BASE62[remainder])
    return "".join(reversed(digits)).rjust(BODY_LENGTH, "0")


def new_secret(prefix: str) -> str:
    """`prefix` + 44 base62 characters of 32 CSPRNG bytes (big-endian, zero-padded)."""
    return prefix + _base62(int.from_bytes(secrets.token_bytes(32), "big"))


def new_api_token() -> str:
    return new_secret(API_TOKEN_PREFIX)


def secret_hash(plaintext: str) -> str:
    """Lowercase hex SHA-256 of the whole plaintext, prefix included."""
    return hashlib.sha256(plaintext.encode()).hexdigest()


def display_prefix(plaintext: str) -> str:
    return plaintext[:DISPLAY_PREFIX_LENGTH]
