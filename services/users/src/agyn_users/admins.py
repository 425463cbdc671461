"""The cluster-admin role (`admin` on `cluster:global`), owned by this service."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_users.models import cluster_admins


async def is_cluster_admin(connection: AsyncConnection, identity_id: uuid.UUID) -> bool:
    row = await connection.execute(
        sa.select(sa.literal(1)).where(cluster_admins.c.identity_id == identity_id)
    )
    return row.first() is not None


async def set_cluster_admin(connection: AsyncConnection, identity_id: uuid.UUID, admin: bool) -> bool:
    """Grant or clear the role; idempotent. Returns whether anything changed."""
    # RETURNING, not rowcount: asyncpg reports a skipped ON CONFLICT insert as a changed row.
    changed = cluster_admins.c.identity_id
    if admin:
        insert = postgresql.insert(cluster_admins).values(identity_id=identity_id).on_conflict_do_nothing()
        result = await connection.execute(insert.returning(changed))
    else:
        delete = cluster_admins.delete().where(cluster_admins.c.identity_id == identity_id)
        result = await connection.execute(delete.returning(changed))
    return result.first() is not None
