"""Keyset page tokens and page-size bounds shared by every List RPC."""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

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


def _cursor_value(column: sa.ColumnElement[Any], value: str) -> Any:
    """A cursor's sort value back in the column's type; a value that does not parse is not ours."""
    try:
        if isinstance(column.type, sa.DateTime):
            return datetime.fromisoformat(value)
        if isinstance(column.type, sa.Integer):
            return int(value)
        if isinstance(column.type, sa.Uuid):
            return uuid.UUID(value)
        if isinstance(column.type, sa.Numeric):
            return Decimal(value)
    except (ValueError, ArithmeticError):
        raise invalid_argument("page_token", "invalid page_token") from None
    return value


class KeysetPage:
    """One page of a listing ordered by (`sort`, `key`), both ascending or both descending,
    `key` unique (an id): the token holds the last row's pair, bound to `scope` (what is being
    listed), so a page never skips or repeats a row whatever is inserted meanwhile.
    `key_descending` orders the key otherwise than the sort, for listings whose ties go one
    way whichever way the user sorts.

    Build it from the request first (a bad token is INVALID_ARGUMENT before any work), then
    `query` narrows a select to the page and `split` cuts the rows into the page and its token.
    """

    def __init__(
        self,
        page_token: str,
        page_size: int,
        *,
        scope: str,
        sort: sa.ColumnElement[Any],
        key: sa.ColumnElement[Any],
        descending: bool = False,
        key_descending: bool | None = None,
        default_size: int = 50,
        max_size: int = 100,
    ) -> None:
        self.size = clamp_page_size(page_size, default=default_size, maximum=max_size)
        self._scope, self._sort, self._key, self._descending = scope, sort, key, descending
        self._key_descending = descending if key_descending is None else key_descending
        cursor = decode_cursor(page_token, scope, 2)
        self._after = (
            None if cursor is None else (_cursor_value(sort, cursor[0]), _cursor_value(key, cursor[1]))
        )

    def query(self, select: sa.Select[Any]) -> sa.Select[Any]:
        if self._after is not None:
            select = select.where(self._beyond(*self._after))
        order = (
            self._sort.desc() if self._descending else self._sort,
            self._key.desc() if self._key_descending else self._key,
        )
        return select.order_by(*order).limit(self.size + 1)

    def _beyond(self, last_sort: Any, last_key: Any) -> sa.ColumnElement[bool]:
        """The rows after (`last_sort`, `last_key`) in the listing's order."""
        if self._descending == self._key_descending:
            # One row comparison, which an index on (sort, key) serves.
            pair, last = sa.tuple_(self._sort, self._key), sa.tuple_(last_sort, last_key)
            return pair < last if self._descending else pair > last
        return sa.or_(
            _past(self._sort, last_sort, descending=self._descending),
            sa.and_(self._sort == last_sort, _past(self._key, last_key, descending=self._key_descending)),
        )

    def token_after(self, row: Any) -> str:
        """The token of the page that starts after `row` (one of `query`'s rows)."""
        value = row._mapping[self._sort]
        return encode_cursor(
            self._scope,
            value.isoformat() if isinstance(value, datetime) else str(value),
            str(row._mapping[self._key]),
        )

    def split(self, rows: Sequence[Any]) -> tuple[Sequence[Any], str]:
        """Rows fetched by `query` → this page, and the token after it ("" at the end)."""
        page = rows[: self.size]
        if len(rows) <= self.size:
            return page, ""
        return page, self.token_after(page[-1])


def _past(column: sa.ColumnElement[Any], value: Any, *, descending: bool) -> sa.ColumnElement[bool]:
    past: sa.ColumnElement[bool] = column < value if descending else column > value
    return past
