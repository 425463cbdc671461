"""The identity registry: every platform identity and its type."""

from __future__ import annotations

import uuid
from typing import cast

import sqlalchemy as sa
from agyn_common.db import one_or_not_found
from agynio.api.identity.v1 import identity_pb2
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_users.models import identities


async def register_identity(connection: AsyncConnection, identity_id: uuid.UUID, identity_type: int) -> bool:
    """Insert the identity; False when the id is already registered (nothing changes then)."""
    result = await connection.execute(
        postgresql.insert(identities)
        .values(identity_id=identity_id, identity_type=identity_type)
        .on_conflict_do_nothing()
        .returning(identities.c.identity_id)
    )
    return result.first() is not None


async def identity_types(
    connection: AsyncConnection, identity_ids: list[uuid.UUID]
) -> dict[uuid.UUID, identity_pb2.IdentityType]:
    if not identity_ids:
        return {}
    rows = await connection.execute(
        sa.select(identities.c.identity_id, identities.c.identity_type).where(
            identities.c.identity_id.in_(set(identity_ids))
        )
    )
    # The column holds the proto numbers (see models.identities).
    return {row.identity_id: cast(identity_pb2.IdentityType, row.identity_type) for row in rows}


async def identity_type(connection: AsyncConnection, identity_id: uuid.UUID) -> identity_pb2.IdentityType:
    """The type of a registered identity; NOT_FOUND for an unknown one."""
    query = sa.select(identities.c.identity_type).where(identities.c.identity_id == identity_id)
    row = await one_or_not_found(connection, query, "identity")
    return cast(identity_pb2.IdentityType, row.identity_type)
