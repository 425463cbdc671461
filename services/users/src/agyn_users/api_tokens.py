"""API token rows: issuing one within the per-user cap, which rows still count, resolving,
listing and revoking."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from agyn_common.credentials import secret_hash
from agyn_common.errors import not_found, resource_exhausted, unauthenticated
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_users.credentials import display_prefix, new_api_token
from agyn_users.models import user_api_tokens

# ListAPITokens has no paging in the contract, so the number a user may hold is bounded.
MAX_TOKENS_PER_USER = 200


def unexpired() -> sa.ColumnElement[bool]:
    """The tokens that still authenticate: no expiry, or one in the future."""
    return sa.or_(user_api_tokens.c.expires_at.is_(None), user_api_tokens.c.expires_at > sa.func.now())


async def insert_api_token(
    connection: AsyncConnection, owner: uuid.UUID, name: str, expires_at: datetime | None = None
) -> tuple[Row[tuple[object, ...]], str]:
    """A new token of `owner` (RESOURCE_EXHAUSTED past the cap): its row and its plaintext."""
    held = await connection.scalar(
        sa.select(sa.func.count()).select_from(user_api_tokens).where(user_api_tokens.c.identity_id == owner)
    )
    if held is not None and held >= MAX_TOKENS_PER_USER:
        raise resource_exhausted(f"a user may hold at most {MAX_TOKENS_PER_USER} api tokens")
    plaintext = new_api_token()
    row = (
        await connection.execute(
            user_api_tokens.insert()
            .values(
                id=uuid.uuid4(),
                identity_id=owner,
                name=name,
                token_hash=secret_hash(plaintext),
                token_prefix=display_prefix(plaintext),
                expires_at=expires_at,
            )
            .returning(*user_api_tokens.c)
        )
    ).one()
    return row, plaintext


async def resolve_api_token(connection: AsyncConnection, token_hash: str) -> Any:
    """The unexpired token with this hash, its last use now recorded; NOT_FOUND for an unknown
    hash, UNAUTHENTICATED for an expired token."""
    row = (
        await connection.execute(
            user_api_tokens.update()
            .where(user_api_tokens.c.token_hash == token_hash, unexpired())
            .values(last_used_at=sa.func.now())
            .returning(*user_api_tokens.c)
        )
    ).first()
    if row is None:
        expired = await connection.execute(
            sa.select(sa.literal(1)).where(user_api_tokens.c.token_hash == token_hash)
        )
        if expired.first() is None:
            raise not_found("api token not found")
        raise unauthenticated("api token expired")
    return row


async def token_owner(connection: AsyncConnection, plaintext: str) -> uuid.UUID | None:
    """Whom an unexpired token stands for, if anyone."""
    owner = await connection.scalar(
        sa.select(user_api_tokens.c.identity_id).where(
            user_api_tokens.c.token_hash == secret_hash(plaintext), unexpired()
        )
    )
    return uuid.UUID(str(owner)) if owner is not None else None


async def list_api_tokens(connection: AsyncConnection, owner: uuid.UUID) -> Sequence[Any]:
    """Every token of `owner`, newest first."""
    rows = await connection.execute(
        sa.select(user_api_tokens)
        .where(user_api_tokens.c.identity_id == owner)
        .order_by(user_api_tokens.c.created_at.desc(), user_api_tokens.c.id.desc())
        .limit(MAX_TOKENS_PER_USER)
    )
    return rows.all()


async def delete_api_token(connection: AsyncConnection, owner: uuid.UUID, token_id: uuid.UUID) -> bool:
    """Whether `owner` had the token."""
    deleted = await connection.execute(
        user_api_tokens.delete()
        .where(user_api_tokens.c.id == token_id, user_api_tokens.c.identity_id == owner)
        .returning(user_api_tokens.c.id)
    )
    return deleted.first() is not None
