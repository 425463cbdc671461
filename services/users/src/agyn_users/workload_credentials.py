"""Workload credential rows: issuing one, resolving its hash, revoking (DESIGN §3)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from agyn_common.credentials import new_secret, secret_hash
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_users.models import workload_credentials


async def insert_credential(
    connection: AsyncConnection,
    prefix: str,
    identity_id: uuid.UUID,
    identity_type: int,
    workload_id: uuid.UUID | None = None,
) -> tuple[str, str]:
    """A new credential for the identity: (its hash, the credential). Only the hash is stored."""
    credential = new_secret(prefix)
    credential_hash = secret_hash(credential)
    await connection.execute(
        workload_credentials.insert().values(
            credential_hash=credential_hash,
            identity_id=identity_id,
            identity_type=identity_type,
            workload_id=workload_id,
        )
    )
    return credential_hash, credential


async def find_credential(connection: AsyncConnection, credential_hash: str) -> Any:
    """The credential's row, or None."""
    query = sa.select(workload_credentials).where(workload_credentials.c.credential_hash == credential_hash)
    return (await connection.execute(query)).first()


async def delete_credential(connection: AsyncConnection, credential_hash: str) -> Any:
    """The deleted row, or None when there was none."""
    deleted = await connection.execute(
        workload_credentials.delete()
        .where(workload_credentials.c.credential_hash == credential_hash)
        .returning(*workload_credentials.c)
    )
    return deleted.first()


async def delete_credentials_of(
    connection: AsyncConnection, identity_id: uuid.UUID, identity_type: int
) -> Sequence[Any]:
    """Every credential of the identity, deleted; the rows."""
    deleted = await connection.execute(
        workload_credentials.delete()
        .where(
            workload_credentials.c.identity_id == identity_id,
            workload_credentials.c.identity_type == identity_type,
        )
        .returning(*workload_credentials.c)
    )
    return deleted.all()
