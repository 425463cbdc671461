"""Fixtures: Threads in-process, with the Users and Organizations it depends on."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from agyn_testkit.threads import Threads, in_process_threads


@pytest.fixture
async def threads(platform, database_factory, nats) -> AsyncIterator[Threads]:
    async with in_process_threads(platform, database_factory, nats.url) as running:
        yield running
