"""Queries of the chat database."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from agyn_common.db import Database
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_chat.models import chats


async def insert(
    connection: AsyncConnection,
    thread_id: uuid.UUID,
    organization_id: uuid.UUID,
    created_by: uuid.UUID,
    created_at: datetime,
) -> Any:
    """The chat's row, made unless a retry made it already (chat sheet §8 #4)."""
    await connection.execute(
        postgresql.insert(chats)
        .values(
            thread_id=thread_id,
            organization_id=organization_id,
            created_by=created_by,
            created_at=created_at,
        )
        .on_conflict_do_nothing(index_elements=["thread_id"])
    )
    return (await connection.execute(sa.select(chats).where(chats.c.thread_id == thread_id))).one()


async def find(db: Database, thread_id: uuid.UUID) -> Any:
    """The chat's row, deleted or not; None for a thread that has none."""
    async with db.read() as connection:
        return (await connection.execute(sa.select(chats).where(chats.c.thread_id == thread_id))).first()


def listed(organization_id: uuid.UUID, status: int) -> sa.Select[Any]:
    """The organization's chats that are not deleted, of one status unless `status` is 0."""
    query = sa.select(chats).where(chats.c.organization_id == organization_id, chats.c.deleted_at.is_(None))
    return query.where(chats.c.status == status) if status else query


async def update(connection: AsyncConnection, thread_id: uuid.UUID, values: Mapping[str, Any]) -> Any:
    """Change a chat that is not deleted and return its row; None when there is no such chat."""
    statement = (
        chats.update()
        .where(chats.c.thread_id == thread_id, chats.c.deleted_at.is_(None))
        .values(**values, updated_at=sa.func.now())
        .returning(chats)
    )
    return (await connection.execute(statement)).first()


async def mark_deleted(connection: AsyncConnection, thread_id: uuid.UUID) -> None:
    """Deleted from now on; a chat deleted before keeps its first deletion time."""
    await connection.execute(
        chats.update()
        .where(chats.c.thread_id == thread_id)
        .values(deleted_at=sa.func.coalesce(chats.c.deleted_at, sa.func.now()), updated_at=sa.func.now())
    )
