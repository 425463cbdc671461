"""Idempotency keys for create-style RPCs (DESIGN §6).

The same `idempotency-key` from the same caller on the same method returns the first
response; the same key with a different request is FAILED_PRECONDITION. Keys are kept 24
hours. The key row is written in the handler's own transaction, so a failed call leaves
no key behind, and a concurrent duplicate waits on the row lock and then replays.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from google.protobuf.message import Message
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_common.caller import Metadata, metadata_values
from agyn_common.errors import failed_precondition, invalid_argument
from agyn_common.outbox import metadata

IDEMPOTENCY_KEY = "idempotency-key"
RETENTION = timedelta(hours=24)
MAX_KEY_LENGTH = 256

idempotency_table = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("caller", sa.Text, primary_key=True),
    sa.Column("method", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("request_hash", sa.LargeBinary, nullable=False),
    sa.Column("response", sa.LargeBinary, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Index("idempotency_keys_created_at_idx", "created_at"),
)

ResponseT = TypeVar("ResponseT", bound=Message)


def create_idempotency_table(op: Any) -> None:
    """For a service's first migration. Later changes to the table need their own revision."""
    idempotency_table.create(op.get_bind())


def idempotency_key(metadata_pairs: Metadata | None) -> str | None:
    values = metadata_values(metadata_pairs, IDEMPOTENCY_KEY)
    if not values or not values[-1]:
        return None
    if len(values[-1]) > MAX_KEY_LENGTH:
        raise invalid_argument(IDEMPOTENCY_KEY, f"must be at most {MAX_KEY_LENGTH} characters")
    return values[-1]


async def run_idempotent(
    connection: AsyncConnection,
    *,
    key: str | None,
    caller: str,
    method: str,
    request: Message,
    response_type: type[ResponseT],
    work: Callable[[], Awaitable[ResponseT]],
) -> ResponseT:
    """Run `work` once per key inside the caller's transaction, replaying its response after."""
    if key is None:
        return await work()
    request_hash = hashlib.sha256(request.SerializeToString(deterministic=True)).digest()
    row_key = {"caller": caller, "method": method, "key": key}
    inserted = await connection.execute(
        postgresql.insert(idempotency_table)
        .values(**row_key, request_hash=request_hash)
        .on_conflict_do_update(
            index_elements=["caller", "method", "key"],
            set_={"request_hash": request_hash, "response": None, "created_at": sa.func.now()},
            # Only an expired key is taken over; a live one is left as it is.
            where=idempotency_table.c.created_at < sa.func.now() - RETENTION,
        )
        .returning(idempotency_table.c.key)
    )
    if inserted.first() is None:
        existing = (
            await connection.execute(
                sa.select(idempotency_table.c.request_hash, idempotency_table.c.response).where(
                    *(idempotency_table.c[name] == value for name, value in row_key.items())
                )
            )
        ).one()
        if existing.request_hash != request_hash or existing.response is None:
            raise failed_precondition(
                "idempotency-key was already used with a different request", "IDEMPOTENCY_KEY_REUSED"
            )
        return response_type.FromString(existing.response)
    response = await work()
    await connection.execute(
        idempotency_table.update()
        .where(*(idempotency_table.c[name] == value for name, value in row_key.items()))
        .values(response=response.SerializeToString(deterministic=True))
    )
    return response


async def purge_expired_keys(connection: AsyncConnection) -> int:
    result = await connection.execute(
        idempotency_table.delete().where(idempotency_table.c.created_at < sa.func.now() - RETENTION)
    )
    return result.rowcount
