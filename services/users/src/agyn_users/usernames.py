"""Usernames: validation of explicit values and derivation for new accounts (sheet §3.1)."""

from __future__ import annotations

import hashlib
import re
import secrets
import string
from collections.abc import Iterator

from agyn_common.errors import invalid_argument

MAX_LENGTH = 32
VALID = re.compile(r"^[a-z0-9_-]+$")
_OUTSIDE = re.compile(r"[^a-z0-9_-]")
_DASHES = re.compile(r"-{2,}")
_RANDOM_ALPHABET = string.ascii_lowercase + string.digits
RANDOM_TRIES = 5


def validate(username: str, field: str = "username") -> str:
    """An explicit username is taken as given (never normalized) or rejected."""
    if not username:
        raise invalid_argument(field, "must not be empty")
    if len(username.encode()) > MAX_LENGTH:
        raise invalid_argument(field, f"must be at most {MAX_LENGTH} bytes")
    if not VALID.match(username):
        raise invalid_argument(field, "may contain only a-z, 0-9, '_' and '-'")
    return username


def normalize(source: str) -> str:
    lowered = _OUTSIDE.sub("-", source.lower())
    return _DASHES.sub("-", lowered).strip("-")[:MAX_LENGTH]


def base_username(oidc_subject: str, sources: list[str]) -> str:
    """The first source that normalizes to something, else a hash of the subject."""
    for source in sources:
        normalized = normalize(source)
        if normalized:
            return normalized
    return "user-" + hashlib.sha256(oidc_subject.encode()).hexdigest()[:8]


def email_local_part(email: str) -> str:
    return email.split("@", 1)[0]


def _with_suffix(base: str, suffix: str) -> str:
    return base[: MAX_LENGTH - len(suffix)].rstrip("-") + suffix


def candidates(base: str) -> Iterator[str]:
    """The base, then base-2 … base-99, then five random four-character suffixes."""
    yield base
    for number in range(2, 100):
        yield _with_suffix(base, f"-{number}")
    for _ in range(RANDOM_TRIES):
        yield _with_suffix(base, "-" + "".join(secrets.choice(_RANDOM_ALPHABET) for _ in range(4)))
