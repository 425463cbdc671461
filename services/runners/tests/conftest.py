"""Fixtures: runners in-process on the session's PostgreSQL and NATS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import pytest
from agyn_common.embedded import EmbeddedNats
from agyn_common.server import RunningService, start_service
from agyn_runners.__main__ import DEFINITION
from agyn_runners.settings import RunnersSettings
from agyn_testkit.fixtures import DatabaseFactory
from agyn_testkit.harness import in_process_settings
from agynio.api.runners.v1 import runners_pb2_grpc


@dataclass
class Runners:
    running: RunningService[RunnersSettings]
    channel: grpc.aio.Channel
    stub: runners_pb2_grpc.RunnersServiceStub


@pytest.fixture
async def runners_service(database_factory: DatabaseFactory, nats: EmbeddedNats) -> AsyncIterator[Runners]:
    database_url = database_factory("runners", DEFINITION.migrations)
    running = await start_service(DEFINITION, in_process_settings(RunnersSettings, database_url, nats.url))
    channel = grpc.aio.insecure_channel(running.address)
    try:
        yield Runners(running, channel, runners_pb2_grpc.RunnersServiceStub(channel))
    finally:
        await channel.close()
        await running.stop(1)
