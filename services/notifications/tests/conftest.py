"""Fixtures: Notifications in-process, with Users and Organizations (the `platform` fixture) and
Agents (agent rooms)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from agyn_testkit.agents import Agents, in_process_agents
from agyn_testkit.notifications import Notifications, in_process_notifications


@pytest.fixture
async def agents(platform, database_factory, nats) -> AsyncIterator[Agents]:
    async with in_process_agents(platform, database_factory, nats.url) as running:
        yield running


@pytest.fixture
async def notifications(platform, nats, agents) -> AsyncIterator[Notifications]:
    async with in_process_notifications(platform, nats.url, agents.service.address) as running:
        yield running


@pytest.fixture
def notifications_with(platform, nats) -> Callable[..., AbstractAsyncContextManager[Notifications]]:
    """Notifications with other settings: `async with notifications_with(stream_buffer_size=2)`;
    Agents is away unless `agents_address` is given."""

    def start(**overrides: Any) -> AbstractAsyncContextManager[Notifications]:
        return in_process_notifications(platform, nats.url, **overrides)

    return start
