"""The migrated schema is the one models.py describes: the first revision is written out by
hand, so a model changed without a new revision shows here."""

from __future__ import annotations

from typing import Any

from agyn_common.db import Database
from agyn_runners.models import metadata
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext


def _differences(connection: Any) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, metadata))


async def test_the_migrations_build_what_the_models_describe(runners):
    database = Database(runners.service.runtime.settings.database_url)
    try:
        async with database.read() as connection:
            differences = await connection.run_sync(_differences)
    finally:
        await database.close()
    assert differences == []
