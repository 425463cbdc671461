"""The cluster-admin role (`admin` on `cluster:global`), owned by this service."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from agyn_common.query import Query
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_users.models import cluster_admins, users

_CALLER = sa.bindparam("caller", type_=users.c.identity_id.type)
_TARGET = sa.bindparam("target", type_=users.c.identity_id.type)


def _holds_admin(identity: sa.BindParameter[Any]) -> sa.Exists:
    return sa.exists().where(cluster_admins.c.identity_id == identity)


# GetUser's one round trip: whether the caller is a cluster admin, and the target's row (all
# NULL when there is none) with its role.
_USER_FOR_ADMIN = Query(
    sa.select(
        _holds_admin(_CALLER).label("caller_is_admin"),
        _holds_admin(_TARGET).label("target_is_admin"),
        *users.c,
    ).select_from(
        sa.select(sa.literal(1).label("one"))
        .subquery("caller")
        .outerjoin(users, users.c.identity_id == _TARGET)
    )
)


async def user_for_admin(
    connection: AsyncConnection, caller: uuid.UUID, target: uuid.UUID
) -> tuple[bool, Any | None, bool]:
    """Whether `caller` is a cluster admin; `target`'s row (None when it has none); whether
    `target` is one."""
    row = await _USER_FOR_ADMIN.first(connection, caller=caller, target=target)
    return row.caller_is_admin, row if row.identity_id is not None else None, row.target_is_admin


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
