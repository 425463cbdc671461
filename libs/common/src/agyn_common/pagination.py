"""Keyset page tokens and page-size bounds shared by every List RPC."""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from agyn_common.errors import invalid_argument

_SEPARATOR = "\x1f"
_TOKEN_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")


def clamp_page_size(requested: int, *, default: int = 50, maximum: int = 100) -> int:
    """Non-positive means the default; above the maximum is clamped, not an error."""
    if requested <= 0:
        return default
    return min(requested, maximum)


def encode_page_token(*parts: str) -> str:
    """Opaque token of the last row's sort key: base64url, no padding.

    A single part encodes as the part itself (for a UUID key: the 36-character string).
    """
    raw = _SEPARATOR.join(parts).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_token(token: str, parts: int = 1) -> list[str]:
    # The decoder skips characters outside the alphabet; a token holding any is not ours.
    if not _TOKEN_ALPHABET.fullmatch(token):
        raise invalid_argument("page_token", "invalid page_token")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid_argument("page_token", "invalid page_token") from None
    decoded = raw.split(_SEPARATOR)
    if len(decoded) != parts:
        raise invalid_argument("page_token", "invalid page_token")
    return decoded


def decode_uuid_page_token(token: str) -> uuid.UUID | None:
    """The UUID after which the next page starts; None for the first page."""
    if not token:
        return None
    (value,) = decode_page_token(token)
    try:
        return uuid.UUID(value)
    except ValueError:
        raise invalid_argument("page_token", "invalid page_token") from None


def split_page(rows: Sequence[Any], page_size: int, key: str = "id") -> tuple[Sequence[Any], str]:
    """Rows fetched with LIMIT page_size + 1 → this page, and the token after it ("" at the end)."""
    page = rows[:page_size]
    return page, encode_page_token(str(getattr(page[-1], key))) if len(rows) > page_size else ""


def encode_cursor(scope: str, *values: str) -> str:
    """A page token bound to `scope` (what the listing is of: a participant, a thread, a filter)."""
    return encode_page_token(scope, *values)


def decode_cursor(token: str, scope: str, values: int) -> list[str] | None:
    """The cursor's values, or None for the first page; INVALID_ARGUMENT for another scope's token."""
    if not token:
        return None
    parts = decode_page_token(token, values + 1)
    if parts[0] != scope:
        raise invalid_argument("page_token", "page_token does not match the request")
    return parts[1:]


def split_cursor_page(
    rows: Sequence[Any], page_size: int, scope: str, sort_key: str
) -> tuple[Sequence[Any], str]:
    """Rows fetched with LIMIT page_size + 1 → this page, and the scoped token after it
    (the last row's `sort_key` and id; times keep their microseconds)."""
    page = rows[:page_size]
    if len(rows) <= page_size:
        return page, ""
    value = getattr(page[-1], sort_key)
    return page, encode_cursor(
        scope, value.isoformat() if isinstance(value, datetime) else str(value), str(page[-1].id)
    )
