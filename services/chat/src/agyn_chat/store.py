"""Queries of the chat database."""

from __future__ import annotations

import sqlalchemy as sa
from agyn_common.db import Database


async def schema_revision(db: Database) -> str:
    """The migration the database is at: the newest in migrations/versions once migrated."""
    async with db.transaction() as connection:
        revision = await connection.execute(sa.text("SELECT version_num FROM alembic_version"))
        return str(revision.scalar_one())
