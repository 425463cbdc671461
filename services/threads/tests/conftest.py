"""Fixtures: Threads in-process, with the Users, Organizations and Agents it depends on."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from agyn_testkit.agents import Agents, in_process_agents
from agyn_testkit.threads import Threads, in_process_threads


@pytest.fixture
async def agents(platform, database_factory, nats) -> AsyncIterator[Agents]:
    async with in_process_agents(platform, database_factory, nats.url) as running:
        yield running


@pytest.fixture
async def threads(platform, database_factory, nats, agents) -> AsyncIterator[Threads]:
    async with in_process_threads(platform, database_factory, nats.url, agents.service.address) as running:
        yield running
