"""The cluster-admin role (`admin` on `cluster:global`), owned by this service."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from agyn_common.db import Database
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
    if admin:
        result = await connection.execute(
            postgresql.insert(cluster_admins).values(identity_id=identity_id).on_conflict_do_nothing()
        )
    else:
        result = await connection.execute(
            cluster_admins.delete().where(cluster_admins.c.identity_id == identity_id)
        )
    return bool(result.rowcount)


class ClusterAdmins:
    """Role lookups outside a caller's transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def is_admin(self, identity_id: uuid.UUID) -> bool:
        async with self._db.transaction() as connection:
            return await is_cluster_admin(connection, identity_id)
