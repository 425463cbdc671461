"""Idempotency keys for create-style RPCs (DESIGN §6), applied by the RPC pipeline.

The same `idempotency-key` from the same caller on the same method returns the first
response; the same key with a different request is FAILED_PRECONDITION. Keys are kept 24
hours. The key row, the handler's writes and the stored response commit in one transaction
(the handler's own transactions join it, see `Database.joined`), so a failed call leaves no
key behind, and a concurrent duplicate waits on the row lock and then replays.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from google.protobuf.message import Message
from sqlalchemy.dialects import postgresql

from agyn_common.caller import Metadata, metadata_values
from agyn_common.db import Database
from agyn_common.errors import failed_precondition, invalid_argument

IDEMPOTENCY_KEY = "idempotency-key"
IDEMPOTENCY_TABLE = "idempotency_keys"
RETENTION = timedelta(hours=24)
MAX_KEY_LENGTH = 256
# What a gRPC metadata value may hold (ASCII from space to tilde).
_KEY_CHARACTERS = re.compile(r"[\x20-\x7e]+")


def idempotency_table(metadata: sa.MetaData) -> sa.Table:
    """The key table on a service's own metadata (DESIGN §4), made once per metadata."""
    if IDEMPOTENCY_TABLE in metadata.tables:
        return metadata.tables[IDEMPOTENCY_TABLE]
    return sa.Table(
        IDEMPOTENCY_TABLE,
        metadata,
        sa.Column("caller", sa.Text, primary_key=True),
        sa.Column("method", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("request_hash", sa.LargeBinary, nullable=False),
        sa.Column("response", sa.LargeBinary, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Index("idempotency_keys_created_at_idx", "created_at"),
    )


def create_idempotency_table(op: Any) -> None:
    """For a service's first migration. Later changes to the table need their own revision."""
    idempotency_table(sa.MetaData()).create(op.get_bind())


def idempotency_key(metadata_pairs: Metadata | None) -> str | None:
    """The call's key (the last one sent), None without one; INVALID_ARGUMENT for a key too
    long or with characters a gRPC metadata value cannot carry (printable ASCII only). The
    Gateway checks a client's key with this before passing it on."""
    values = metadata_values(metadata_pairs, IDEMPOTENCY_KEY)
    if not values or not values[-1]:
        return None
    key = values[-1]
    if len(key) > MAX_KEY_LENGTH:
        raise invalid_argument(IDEMPOTENCY_KEY, f"must be at most {MAX_KEY_LENGTH} characters")
    if not _KEY_CHARACTERS.fullmatch(key):
        raise invalid_argument(IDEMPOTENCY_KEY, "must be printable ASCII")
    return key


class Idempotency:
    """The keys of one service's database."""

    def __init__(self, db: Database, metadata: sa.MetaData) -> None:
        self._db = db
        self._table = idempotency_table(metadata)

    async def run(
        self,
        *,
        key: str,
        caller: str,
        method: str,
        request: Message,
        response_type: type[Message],
        work: Callable[[], Awaitable[Message]],
    ) -> Message:
        """Run `work` once per (caller, method, key), replaying its response afterwards."""
        table = self._table
        request_hash = hashlib.sha256(request.SerializeToString(deterministic=True)).digest()
        row_key = (table.c.caller == caller, table.c.method == method, table.c.key == key)
        async with self._db.transaction() as connection:
            inserted = await connection.execute(
                postgresql.insert(table)
                .values(caller=caller, method=method, key=key, request_hash=request_hash)
                .on_conflict_do_update(
                    index_elements=["caller", "method", "key"],
                    set_={"request_hash": request_hash, "response": None, "created_at": sa.func.now()},
                    # Only an expired key is taken over; a live one is left as it is.
                    where=table.c.created_at < sa.func.now() - RETENTION,
                )
                .returning(table.c.key)
            )
            if inserted.first() is None:
                existing = (
                    await connection.execute(
                        sa.select(table.c.request_hash, table.c.response).where(*row_key)
                    )
                ).one()
                if existing.request_hash != request_hash or existing.response is None:
                    raise failed_precondition(
                        "idempotency-key was already used with a different request", "IDEMPOTENCY_KEY_REUSED"
                    )
                return response_type.FromString(existing.response)
            with self._db.joined(connection):  # the handler's writes commit with the key
                response = await work()
            await connection.execute(
                table.update().where(*row_key).values(response=response.SerializeToString(deterministic=True))
            )
        return response

    async def purge_expired(self) -> int:
        async with self._db.transaction() as connection:
            result = await connection.execute(
                self._table.delete().where(self._table.c.created_at < sa.func.now() - RETENTION)
            )
        return result.rowcount
