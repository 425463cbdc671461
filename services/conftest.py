"""Fixtures shared by the service suites: Users and Organizations in-process, wired to each
other, on the session's PostgreSQL and NATS."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from agyn_testkit.organizations import Platform, in_process_platform


@pytest.fixture
async def platform(database_factory, nats) -> AsyncIterator[Platform]:
    async with in_process_platform(database_factory, nats.url) as running:
        yield running
