"""Checks on request fields that raise INVALID_ARGUMENT naming the field."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence

from agyn_common.errors import invalid_argument


def parse_uuid(value: str, field: str) -> uuid.UUID:
    """A UUID argument; empty or malformed is INVALID_ARGUMENT on `field`."""
    if not value:
        raise invalid_argument(field, "must be a UUID, got an empty value")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise invalid_argument(field, f"must be a UUID, got {value[:64]!r}") from None


def parse_uuid_list(values: Sequence[str], field: str, *, max_items: int) -> list[uuid.UUID]:
    if len(values) > max_items:
        raise invalid_argument(field, f"batch size {len(values)} exceeds maximum of {max_items}")
    return [parse_uuid(value, f"{field}[{index}]") for index, value in enumerate(values)]


def check_length(value: str, field: str, *, max_chars: int, required: bool = False) -> str:
    if required and not value:
        raise invalid_argument(field, "must not be empty")
    if len(value) > max_chars:
        raise invalid_argument(field, f"must be at most {max_chars} characters, got {len(value)}")
    return value


MAX_NICKNAME = 32
NICKNAME_PATTERN = re.compile(r"[a-z0-9_-]+")


def normalize_nickname(value: str, field: str = "nickname") -> str:
    """An organization @nickname: trimmed, 1-32 of a-z, 0-9, '_' and '-'."""
    nickname = value.strip()
    if not nickname:
        raise invalid_argument(field, "must not be empty")
    if len(nickname) > MAX_NICKNAME:
        raise invalid_argument(field, f"must be at most {MAX_NICKNAME} characters, got {len(nickname)}")
    if not NICKNAME_PATTERN.fullmatch(nickname):
        raise invalid_argument(field, "may contain only a-z, 0-9, '_' and '-'")
    return nickname
