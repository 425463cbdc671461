"""The migrated schema is the one models.py describes: the first revision is written out by
hand, so a model changed without a new revision shows here."""

from __future__ import annotations

from agyn_runners.models import metadata
from agyn_testkit.harness import schema_differences


async def test_the_migrations_build_what_the_models_describe(runners):
    assert await schema_differences(runners.service.runtime.settings.database_url, metadata) == []
