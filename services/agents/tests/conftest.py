"""Fixtures: agents in-process on the session's PostgreSQL and NATS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import pytest
from agyn_agents.__main__ import DEFINITION
from agyn_agents.settings import AgentsSettings
from agyn_common.embedded import EmbeddedNats
from agyn_common.server import RunningService, start_service
from agyn_testkit.fixtures import DatabaseFactory
from agyn_testkit.harness import in_process_settings
from agynio.api.agents.v1 import agents_pb2_grpc


@dataclass
class Agents:
    running: RunningService[AgentsSettings]
    channel: grpc.aio.Channel
    stub: agents_pb2_grpc.AgentsServiceStub


@pytest.fixture
async def agents_service(database_factory: DatabaseFactory, nats: EmbeddedNats) -> AsyncIterator[Agents]:
    database_url = database_factory("agents", DEFINITION.migrations)
    running = await start_service(DEFINITION, in_process_settings(AgentsSettings, database_url, nats.url))
    channel = grpc.aio.insecure_channel(running.address)
    try:
        yield Agents(running, channel, agents_pb2_grpc.AgentsServiceStub(channel))
    finally:
        await channel.close()
        await running.stop(1)
