"""API token rows: issuing one within the per-user cap, and which rows still count."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from agyn_common.errors import resource_exhausted
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_users.credentials import display_prefix, new_api_token, secret_hash
from agyn_users.models import user_api_tokens

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
